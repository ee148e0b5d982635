package emulator

import (
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"

	"github.com/cfst/cfst/internal/secret"
)

// idSource makes ids, AUD tags, client ids and secrets: random, or from a seed so that a
// world's generated values repeat from run to run. It is not safe for concurrent use.
type idSource struct{ r io.Reader }

// newIDSource returns a random source when seed is 0, else a deterministic one for the
// seed and key. Keys name what the values are for, such as "service_tokens/ci", so that
// adding an entity to a world changes no other entity's generated values.
func newIDSource(seed int64, key string) *idSource {
	if seed == 0 {
		return &idSource{r: cryptorand.Reader}
	}
	var seedBytes [8]byte
	binary.LittleEndian.PutUint64(seedBytes[:], uint64(seed))
	return &idSource{r: rand.NewChaCha8(sha256.Sum256(append(seedBytes[:], key...)))}
}

func (g *idSource) bytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(g.r, b); err != nil {
		panic(fmt.Sprintf("emulator: read random bytes: %v", err)) // crypto/rand cannot fail
	}
	return b
}

// hex returns n random bytes as 2n hex digits.
func (g *idSource) hex(n int) string { return hex.EncodeToString(g.bytes(n)) }

// uuid returns a version 4 UUID.
func (g *idSource) uuid() string {
	b := g.bytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// aud returns an Access application audience tag: 64 hex digits.
func (g *idSource) aud() string { return g.hex(32) }

// clientID returns a service token client id: 32 hex digits and ".access".
func (g *idSource) clientID() string { return g.hex(16) + ".access" }

const secretAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// clientSecret returns a secret in the format Cloudflare uses since 2026-08-26: "cfast_",
// 40 alphanumeric characters, and an 8-character checksum. The checksum algorithm is not
// published; the emulator uses the CRC-32 (IEEE) of the 40 characters in hex.
func (g *idSource) clientSecret() secret.Secret {
	body := make([]byte, 0, 40)
	for len(body) < 40 {
		for _, b := range g.bytes(48) {
			if b < 248 && len(body) < 40 { // 248 = 4*62: keeps the draw uniform
				body = append(body, secretAlphabet[int(b)%62])
			}
		}
	}
	sum := crc32.ChecksumIEEE(body)
	return secret.New(fmt.Sprintf("cfast_%s%08x", body, sum))
}
