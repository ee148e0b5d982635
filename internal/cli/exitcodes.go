package cli

// Exit codes are part of cfst's interface: scripts and CI branch on them, so a code's
// meaning never changes. `cfst help exit-codes` prints this table.
const (
	ExitOK          = 0  // success
	ExitError       = 1  // an error not covered below
	ExitUsage       = 2  // bad flag, argument or input file
	ExitAuth        = 3  // API token missing, invalid or lacking a permission
	ExitNotFound    = 4  // token, application, account or zone not found
	ExitRefused     = 5  // cfst refused to lose or expose data, or a limit was reached
	ExitRateLimited = 6  // the API rate limit was hit; the message says how long to wait
	ExitUnreachable = 7  // the API or a service could not be reached in time
	ExitDegraded    = 8  // test: the token was accepted, but a backend or tunnel is down
	ExitRejected    = 9  // test: a target rejected the token or could not be reached
	ExitSecretSaved = 10 // the token exists but .env could not be written; see the message
	ExitVerifyFail  = 11 // rotate: the new secret was rejected; the previous one was restored
	ExitCheckFailed = 12 // doctor: a check failed; apps --probe: the edge disagreed
	ExitCancelled   = 130
)

const exitCodesHelp = `cfst exits with one of these codes; their meaning never changes.

   0  success
   1  an error not covered below
   2  bad flag, argument or input file
   3  the API token is missing, invalid or lacks a permission (the message names it)
   4  a token, application, account or zone was not found
   5  refused to lose or expose data (existing credentials, a .env file git would commit,
      a .env directory cfst cannot write), or an account limit was reached
   6  rate limited by the Cloudflare API; the message says how long to wait
   7  the API or a service could not be reached within --timeout
   8  cfst test: every target accepted the token, but some backend or tunnel is down
   9  cfst test: some target rejected the token or could not be reached
  10  the token was created or rotated but .env could not be written; the secret was saved
      where the message says, and nothing was lost
  11  cfst rotate --verify: a target rejected the new secret; the previous secret is back in
      .env and its grace period was extended
  12  cfst doctor: at least one check failed; cfst apps --probe: the live edge disagreed
      with a verdict (the output says which)
 130  interrupted
`
