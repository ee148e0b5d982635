package cloudflare

import (
	"context"
	"net/http"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
)

// Organization is the part of the Access organization settings cfst reads.
type Organization struct {
	Name       string `json:"name"`
	AuthDomain string `json:"auth_domain"`
	// StrictServiceTokenAuth is strict service token authentication (fact sheet §3.3); nil
	// when the API does not send the field, as older API versions do not.
	StrictServiceTokenAuth *bool `json:"strict_service_token_auth"`
}

// GetOrganization returns the Access organization of the account, or of the zone when no
// account is configured.
func (c *Client) GetOrganization(ctx context.Context) (Organization, error) {
	op := operation{name: "get access organization", permission: PermGroupsRead}
	var org Organization
	err := c.run(ctx, op, func(ctx context.Context) error {
		return c.getResult(ctx, c.scopePath()+"/access/organizations", &org)
	})
	return org, err
}

// APITokenCheck is what GET /user/tokens/verify says about the API token cfst uses.
type APITokenCheck struct {
	// Status is "active", "disabled" or "expired".
	Status string
	// ExpiresOn is when the API token stops working; zero when it does not expire.
	ExpiresOn time.Time
	// ServerTime is the Date header of the answer, to compare clocks with; zero when the
	// answer had none.
	ServerTime time.Time
}

// CheckAPIToken verifies the API token like VerifyAPIToken, and also returns its expiry
// and the API's clock.
func (c *Client) CheckAPIToken(ctx context.Context) (APITokenCheck, error) {
	op := operation{name: "verify API token"}
	var check APITokenCheck
	err := c.run(ctx, op, func(ctx context.Context) error {
		var resp *http.Response
		res, err := c.sdk.User.Tokens.Verify(ctx, option.WithResponseInto(&resp))
		if err != nil {
			return err
		}
		check = APITokenCheck{Status: string(res.Status), ExpiresOn: res.ExpiresOn}
		if resp != nil {
			check.ServerTime, _ = http.ParseTime(resp.Header.Get("Date"))
		}
		return nil
	})
	return check, err
}
