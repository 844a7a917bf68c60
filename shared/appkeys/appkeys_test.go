package appkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/journeyrelay/relay/infra/awslocal"
	"github.com/journeyrelay/relay/shared/secrets"
)

type staticSource struct {
	doc string
	err error
}

func (s staticSource) Get(context.Context) (string, error) { return s.doc, s.err }

func doc(pairs ...string) string {
	var entries []string
	for i := 0; i < len(pairs); i += 2 {
		entries = append(entries, fmt.Sprintf(`{"id":%q,"sha256":%q}`, pairs[i], Hash(pairs[i+1])))
	}
	return `{"keys":[` + strings.Join(entries, ",") + `]}`
}

func TestAuthenticate(t *testing.T) {
	auth := NewAuthenticator(staticSource{doc: doc("ios-prod", "key-ios", "android-prod", "key-android")})
	tests := []struct {
		name   string
		key    string
		wantID string
		err    error
	}{
		{"first key", "key-ios", "ios-prod", nil},
		{"second key", "key-android", "android-prod", nil},
		{"unknown key", "key-web", "", ErrUnknownKey},
		{"empty key", "", "", ErrUnknownKey},
		{"hash instead of key", Hash("key-ios"), "", ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := auth.Authenticate(context.Background(), tt.key)
			if id != tt.wantID || !errors.Is(err, tt.err) {
				t.Errorf("got %q, %v; want %q, %v", id, err, tt.wantID, tt.err)
			}
		})
	}
}

func TestParseKeysRejectsBadDocuments(t *testing.T) {
	for name, d := range map[string]string{
		"not JSON":      "nope",
		"no keys":       `{"keys":[]}`,
		"short hash":    `{"keys":[{"id":"a","sha256":"abcd"}]}`,
		"missing id":    `{"keys":[{"sha256":"` + Hash("x") + `"}]}`,
		"not hex":       `{"keys":[{"id":"a","sha256":"` + strings.Repeat("z", 64) + `"}]}`,
		"plaintext key": `{"keys":[{"id":"a","key":"secret"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseKeys(d)
			if err == nil {
				t.Fatal("got nil error")
			}
			if strings.Contains(err.Error(), "secret\"") || strings.Contains(err.Error(), Hash("x")) {
				t.Errorf("error echoes secret material: %v", err)
			}
		})
	}
}

func TestAuthenticateReportsSourceFailure(t *testing.T) {
	auth := NewAuthenticator(staticSource{err: errors.New("throttled")})
	if _, err := auth.Authenticate(context.Background(), "k"); err == nil || errors.Is(err, ErrUnknownKey) {
		t.Errorf("got %v, want a read failure distinct from ErrUnknownKey", err)
	}
}

func TestAuthenticateAgainstSecretsManager(t *testing.T) {
	emu, res := awslocal.StartT(t)
	ctx := context.Background()
	if err := awslocal.PutSecret(ctx, emu.Config, res.AppKeysSecret, map[string]any{
		"keys": []map[string]string{{"id": "ios-prod", "sha256": Hash("key-ios")}},
	}); err != nil {
		t.Fatal(err)
	}
	cache := secrets.NewCache(secretsmanager.NewFromConfig(emu.Config), res.AppKeysSecret, secrets.Options{TTL: time.Minute})
	auth := NewAuthenticator(cache)
	id, err := auth.Authenticate(ctx, "key-ios")
	if err != nil || id != "ios-prod" {
		t.Errorf("got %q, %v; want ios-prod", id, err)
	}
	if _, err := auth.Authenticate(ctx, "key-android"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key: got %v", err)
	}
}
