// Package genesyssim simulates the parts of Genesys Cloud that Journey Relay calls: the
// OAuth client-credentials token endpoint, the unauthenticated app and web journey event
// endpoints, and the external-events batch endpoint. It validates requests as strictly
// as the public Genesys SDKs describe, applies the platform's rate limits and headers,
// and can inject faults such as outages, 5xx errors, latency, 429 storms and responses
// that arrive after the client gave up.
//
// Start with Start in tests, which runs a Server on a random loopback port, or New for
// an http.Handler. Config lists the known deployments, configurations and OAuth clients;
// Faults describes injected failures; Stats and Events show what the server received.
// The same controls are served over HTTP under /_sim, see the README.
//
// One server plays both Genesys hosts: the login host (/oauth/token) and the API host
// (/api/v2/...). Memory stays bounded: at most Config.Retention events, identities and
// sessions are kept, while the counters in Stats keep counting.
package genesyssim
