// Package appkeys authenticates mobile apps by the key they send in the
// X-Api-Key header.
//
// The relay never stores keys, only their SHA-256 hashes, in a Secrets
// Manager secret of the form {"keys": [{"id": "ios-prod", "sha256": "<hex>"}]}.
// A presented key is hashed and compared with every stored hash in constant
// time, so neither a key nor the position of its match leaks through timing.
// Callers log the matched key's id, never the key.
package appkeys

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// ErrUnknownKey is returned for a missing key or one that matches no stored hash.
var ErrUnknownKey = errors.New("unknown app key")

// Source returns the current secret document; secrets.Cache implements it.
type Source interface {
	Get(ctx context.Context) (string, error)
}

type storedKey struct {
	id   string
	hash [sha256.Size]byte
}

// Authenticator checks app keys against the hashes in a secret.
type Authenticator struct {
	source Source

	mu     sync.Mutex
	parsed string // the secret document keys was parsed from
	keys   []storedKey
}

// NewAuthenticator returns an Authenticator reading hashes from source.
func NewAuthenticator(source Source) *Authenticator {
	return &Authenticator{source: source}
}

// Authenticate returns the id of the stored key that key matches, or
// ErrUnknownKey. Other errors mean the hashes could not be read.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (string, error) {
	keys, err := a.load(ctx)
	if err != nil {
		return "", err
	}
	if key == "" {
		return "", ErrUnknownKey
	}
	sum := sha256.Sum256([]byte(key))
	matched := -1
	for i := range keys {
		// Every stored hash is compared, so the time taken does not depend on where the match is.
		if subtle.ConstantTimeCompare(sum[:], keys[i].hash[:]) == 1 {
			matched = i
		}
	}
	if matched < 0 {
		return "", ErrUnknownKey
	}
	return keys[matched].id, nil
}

func (a *Authenticator) load(ctx context.Context) ([]storedKey, error) {
	doc, err := a.source.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("read app keys: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if doc == a.parsed && a.keys != nil {
		return a.keys, nil
	}
	keys, err := parseKeys(doc)
	if err != nil {
		return nil, err
	}
	a.parsed, a.keys = doc, keys
	return keys, nil
}

// parseKeys reads the secret document. Errors name the entry that is wrong but
// never echo a hash.
func parseKeys(doc string) ([]storedKey, error) {
	var in struct {
		Keys []struct {
			ID     string `json:"id"`
			SHA256 string `json:"sha256"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		return nil, errors.New("parse app keys: the secret is not JSON of the form {\"keys\": [{\"id\", \"sha256\"}]}")
	}
	if len(in.Keys) == 0 {
		return nil, errors.New("parse app keys: the secret lists no keys")
	}
	keys := make([]storedKey, 0, len(in.Keys))
	for i, k := range in.Keys {
		raw, err := hex.DecodeString(k.SHA256)
		if k.ID == "" || err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("parse app keys: entry %d needs an id and a sha256 of 64 hex digits", i)
		}
		var sk storedKey
		sk.id = k.ID
		copy(sk.hash[:], raw)
		keys = append(keys, sk)
	}
	return keys, nil
}

// Hash returns the hex SHA-256 of key, the form stored in the secret.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
