// Package token obtains, caches and hands out the Genesys Cloud OAuth access
// token that external events need.
//
// Two types implement the same pair of methods, Token and Refresh:
//
//   - Issuer runs in the token function. It reads the OAuth client from a
//     secret (see ParseCredentials), requests a token from the login host by
//     the client-credentials grant, and caches it until ExpiresAt less a
//     refresh margin.
//   - Client runs in the flush function. It invokes the token function through
//     Lambda and caches the returned token in the same way.
//
// Both keep these invariants. Concurrent callers that find the cache due for
// a refresh share one fetch. Refresh with a token that Genesys rejected
// fetches a new token only while that token is still the cached one, so any
// number of callers reporting one rejected token cause one fetch. When a
// fetch fails, the cached token is served until its real expiry unless it was
// rejected. No secret or access token appears in an error, a log record or a
// metric: errors carry HTTP status codes and OAuth error codes, and logs
// identify a token by the first characters of its SHA-256.
package token
