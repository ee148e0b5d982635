package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// appClaims is the payload of the application token Access sends to origins after a
// service-token login (fact sheet §3.1). Subject is declared here, not taken from
// RegisteredClaims, because Cloudflare sends "sub":"" and RegisteredClaims omits it.
type appClaims struct {
	jwt.RegisteredClaims
	Type       string `json:"type"`
	Subject    string `json:"sub"`
	CommonName string `json:"common_name"`
}

// signer holds the team's RSA key, which signs every application token. The key is made
// when the server starts and never rotates.
type signer struct {
	key      *rsa.PrivateKey
	kid      string
	certsDoc []byte // the JSON served at /cdn-cgi/access/certs

	mu     sync.Mutex
	issued map[issuedKey]issuedToken
}

// tokenReuse is how long the signer hands out the same token again for the same client,
// application and lifetime. An RSA signature costs about a millisecond, which would
// otherwise cap the edge at a few hundred admitted requests per second and core. Origins
// see an iat at most this much older than the request, and an exp as much earlier.
const tokenReuse = 30 * time.Second

// maxIssued bounds the reuse cache; past it the cache starts again empty.
const maxIssued = 4096

type issuedKey struct {
	issuer, aud, clientID string
	lifetime              time.Duration
}

type issuedToken struct {
	token    string
	issuedAt time.Time
}

// processKey is the RSA key every emulator in this process signs with. Generating a
// 2048-bit key takes about a second under the race detector, and tests start hundreds of
// emulators; a key shared within one process changes nothing a client can observe.
var processKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

func newSigner(teamDomain string) (*signer, error) {
	key, err := processKey()
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return newSignerWithKey(teamDomain, key)
}

// newSignerWithKey is newSigner with a given key, for the tests that need two teams whose
// keys differ.
func newSignerWithKey(teamDomain string, key *rsa.PrivateKey) (*signer, error) {
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	sum := sha256.Sum256(spki)
	sg := &signer{key: key, kid: hex.EncodeToString(sum[:]), issued: map[issuedKey]issuedToken{}}
	certPEM, err := selfSignedCert(key, teamDomain)
	if err != nil {
		return nil, fmt.Errorf("certify signing key: %w", err)
	}
	sg.certsDoc, err = json.Marshal(sg.certs(certPEM))
	if err != nil {
		return nil, fmt.Errorf("encode certs document: %w", err)
	}
	return sg, nil
}

// jsonWebKey is one RSA key in a JWKS.
type jsonWebKey struct {
	KID string `json:"kid"`
	KTY string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	E   string `json:"e"`
	N   string `json:"n"`
}

// publicCert is a key's certificate as /cdn-cgi/access/certs lists it.
type publicCert struct {
	KID  string `json:"kid"`
	Cert string `json:"cert"`
}

// certsDocument is the body of /cdn-cgi/access/certs.
type certsDocument struct {
	Keys        []jsonWebKey `json:"keys"`
	PublicCert  publicCert   `json:"public_cert"`
	PublicCerts []publicCert `json:"public_certs"`
}

func (sg *signer) certs(certPEM []byte) certsDocument {
	pub := sg.key.PublicKey
	cert := publicCert{KID: sg.kid, Cert: string(certPEM)}
	return certsDocument{
		Keys: []jsonWebKey{{
			KID: sg.kid, KTY: "RSA", Alg: "RS256", Use: "sig",
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		}},
		PublicCert:  cert,
		PublicCerts: []publicCert{cert},
	}
}

func selfSignedCert(key *rsa.PrivateKey, teamDomain string) ([]byte, error) {
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: teamDomain},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// appToken returns an application token for a service token's client id: a new one, or
// one issued for the same client, application and lifetime less than tokenReuse ago.
func (sg *signer) appToken(issuer, aud, clientID string, now time.Time,
	lifetime time.Duration) (string, error) {
	key := issuedKey{issuer: issuer, aud: aud, clientID: clientID, lifetime: lifetime}
	sg.mu.Lock()
	previous, found := sg.issued[key]
	sg.mu.Unlock()
	if age := now.Sub(previous.issuedAt); found && age >= 0 && age < tokenReuse {
		return previous.token, nil
	}
	token, err := sg.sign(issuer, aud, clientID, now, lifetime)
	if err != nil {
		return "", err
	}
	sg.mu.Lock()
	if len(sg.issued) >= maxIssued {
		clear(sg.issued)
	}
	sg.issued[key] = issuedToken{token: token, issuedAt: now}
	sg.mu.Unlock()
	return token, nil
}

// sign makes and signs a new application token.
func (sg *signer) sign(issuer, aud, clientID string, now time.Time,
	lifetime time.Duration) (string, error) {
	claims := appClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Audience:  jwt.ClaimStrings{aud},
			ExpiresAt: jwt.NewNumericDate(now.Add(lifetime)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
		},
		Type:       "app",
		CommonName: clientID,
	}
	token := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	token.Header["kid"] = sg.kid
	return token.SignedString(sg.key)
}

// errTokenAudience reports a valid token issued for another application.
var errTokenAudience = errors.New("token is not for this application")

// verify checks an application token's signature, issuer, and times at now. When aud is
// not empty the token must be issued for it.
func (sg *signer) verify(token, issuer, aud string, now time.Time) (*appClaims, error) {
	claims := &appClaims{}
	_, err := jwt.ParseWithClaims(token, claims, sg.keyFor,
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, err
	}
	if aud != "" && !slices.Contains(claims.Audience, aud) {
		return nil, errTokenAudience
	}
	return claims, nil
}

func (sg *signer) keyFor(token *jwt.Token) (any, error) {
	if kid, _ := token.Header["kid"].(string); kid != sg.kid {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	return &sg.key.PublicKey, nil
}
