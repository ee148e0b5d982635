// # Where the emulator's API guesses
//
// Cloudflare documents the API less precisely than an emulator needs. Where the fact sheet
// (docs/cloudflare-access.md) says "unknown", or says nothing, the emulator chooses as
// follows; a client that depends on any of these should not count on the real API doing
// the same.
//
// Authentication and errors:
//   - A missing Authorization header or an unknown API token: 401, code 10000
//     "Authentication error". A token without the permission: 403, code 10000. A header
//     that is not one "Bearer <token>": 400, code 6003 with error_chain code 6111.
//   - An account or zone id other than the world's: 403, code 9109 "Unauthorized to access
//     requested resource", as a token sees an account it has no access to.
//   - Unknown routes, refresh and rotate at zone scope included: 404, code 7003 "No route
//     for the URI". A known route with another method: 405, code 7001.
//   - Unknown ids: 404, code 12135 "access.api.error.not_found". Invalid bodies, durations,
//     names, paging parameters: 400, code 12130 "access.api.error.invalid_request: <detail>".
//     Unknown JSON fields are ignored; bodies over 1 MiB are refused.
//   - A panic becomes a 500, code 10001. An injected fault answers its status with code
//     10001 and "<status text> (injected fault)", except 429: code 971 "Please wait and
//     consider throttling your request speed", with Retry-After.
//   - Permissions (see PermAppsRead and the others) are coarser names for Cloudflare's.
//
// Lists: page defaults to 1 and per_page to 20 (the schema's example), capped at 1000. A page
// past the end is 200 with an empty result, which is what stops the v6 auto-pager.
// result_info has page, per_page, count, total_count and total_pages. name matches exactly
// (applications also filter on domain and aud, exactly); search is a case-insensitive
// substring of the name (and of the client id or domain). Items are listed in creation order.
//
// Service tokens:
//   - Every answer carries enabled, client_secret_version, created_at and updated_at.
//     expires_at is left out for a token whose duration is "forever" (what Cloudflare sends
//     is unknown). last_seen_at is left out until the token is first presented, and is set
//     on every authentication attempt of a known client id, failed ones included.
//     previous_client_secret_expires_at is left out until a rotation or an update sets it.
//   - New secrets are "cfast_", 40 alphanumerics and an 8-character checksum; the checksum
//     is not published, so the emulator uses the CRC-32 (IEEE) of the 40 characters in hex.
//   - Refresh sets expires_at to now + duration (the docs say "one year", which is the
//     default duration). PUT with a duration resets expires_at to now + duration.
//   - Rotate increments client_secret_version; without previous_client_secret_expires_at
//     the old secret stops at once. A PUT that raises client_secret_version rotates the same
//     way and answers with the new secret; lowering it is a 400.
//   - The limit (token_limit, default 50) counts account and zone tokens together; over it,
//     create is a 400, code 12130, whose message names the limit.
//   - Tokens, applications and groups belong to the account or the zone and are listed and
//     found only there; the edge uses them all.
//
// Applications and policies:
//   - Only self_hosted applications are modelled; another type is a 400 "app type is missing
//     or invalid". Without destinations, an application gets public destinations made from
//     its domain and self_hosted_domains.
//   - PUT replaces an application's fields; without policies it keeps its policies.
//     App-scoped policies that a PUT leaves out are deleted, as is an application's own
//     policies with it.
//   - Deleting an application, policy or group answers 202 with {"id"}, as the 2024 schema
//     says; deleting a service token answers 200 with the token.
//   - A reusable policy still attached to applications, or a group that a rule still names,
//     is not deleted: 400. Updating or deleting a reusable policy through an application's
//     policies path is a 400 that points to /accounts/{account_id}/access/policies.
//   - Rules accept the selectors of access.Rule only; a rule with another selector, or none,
//     or two, is a 400. service_token and group rules must name existing ids; deleting a
//     service token leaves the rules that name it, which then match nothing.
//
// Login events: the "connection" of a service-token login is "nonidentity" unless the
// world's login_events says otherwise; Cloudflare publishes no sample (fact sheet §4).
//
// The rate limit, when the world sets one, is a fixed window per API token on the
// emulator's clock. The admin API under /__emulator/ has no authentication.
package emulator
