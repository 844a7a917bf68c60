package journey

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sort"
	"time"
)

// DeriveKey returns the idempotency key of an event that carries none: the
// SHA-256, in hex, of the event's identity (type, user, session, name, the
// client's own timestamp in UTC milliseconds, screen or page, and the
// properties in key order).
// It uses nothing time- or random-based, so the same event sent twice gets the
// same key. Clock correction does not change it, because at is the client's time.
func DeriveKey(ev *Event, at time.Time) string {
	h := sha256.New()
	field := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("journey-event-v1")
	field(ev.Type)
	field(ev.UserID)
	field(ev.SessionID)
	field(ev.Name)
	field(FormatTime(at))
	field(ev.ScreenName)
	if ev.Page != nil {
		field(ev.Page.URL)
		field(ev.Page.Title)
	}
	writeProperties(h, field, ev.Properties)
	return hex.EncodeToString(h.Sum(nil))
}

func writeProperties(h hash.Hash, field func(string), props map[string]Value) {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := props[k]
		field(k)
		h.Write([]byte{byte(v.Kind)})
		field(v.Text)
	}
}
