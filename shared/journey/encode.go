package journey

import (
	"sort"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the event's JSON to dst, byte for byte what
// json.Marshal(ev) returns, without reflection. Ingest encodes every queue
// message with it because encoding/json's reflection and its check of each
// custom marshaller's output cost more than validation itself.
func (ev *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"event_type":`...)
	dst = appendString(dst, ev.Type)
	dst = appendField(dst, "event_name", ev.Name, true)
	dst = appendField(dst, "timestamp", ev.Timestamp, true)
	dst = appendField(dst, "original_timestamp", ev.OriginalTimestamp, false)
	dst = appendField(dst, "received_at", ev.ReceivedAt, true)
	dst = appendField(dst, "user_id", ev.UserID, true)
	dst = appendField(dst, "session_id", ev.SessionID, true)
	dst = appendField(dst, "idempotency_key", ev.IdempotencyKey, true)
	dst = appendField(dst, "customer_cookie_id", ev.CustomerCookieID, false)
	dst = appendField(dst, "screen_name", ev.ScreenName, false)
	if p := ev.Page; p != nil {
		dst = append(dst, `,"page":{"url":`...)
		dst = appendString(dst, p.URL)
		dst = appendField(dst, "title", p.Title, true)
		dst = append(dst, '}')
	}
	if a := ev.App; a != nil {
		dst = append(dst, `,"app":{"name":`...)
		dst = appendString(dst, a.Name)
		dst = appendField(dst, "namespace", a.Namespace, true)
		dst = appendField(dst, "version", a.Version, true)
		dst = appendField(dst, "build_number", a.BuildNumber, true)
		dst = append(dst, '}')
	}
	if d := ev.Device; d != nil {
		dst = d.appendJSON(dst)
	}
	if s := ev.SDK; s != nil {
		dst = append(dst, `,"sdk":{"name":`...)
		dst = appendString(dst, s.Name)
		dst = appendField(dst, "version", s.Version, true)
		dst = append(dst, '}')
	}
	if n := ev.Network; n != nil {
		dst = n.appendJSON(dst)
	}
	dst = appendField(dst, "referrer_url", ev.ReferrerURL, false)
	dst = appendField(dst, "search_query", ev.SearchQuery, false)
	dst = appendField(dst, "user_agent", ev.UserAgent, false)
	dst = appendField(dst, "skew", ev.Skew, false)
	if len(ev.Properties) > 0 {
		dst = appendProperties(dst, ev.Properties)
	}
	return append(dst, '}')
}

func (d *Device) appendJSON(dst []byte) []byte {
	dst = append(dst, `,"device":{"category":`...)
	dst = appendString(dst, d.Category)
	dst = appendField(dst, "type", d.Type, true)
	dst = appendField(dst, "os_family", d.OSFamily, true)
	dst = appendField(dst, "os_version", d.OSVersion, true)
	dst = appendBool(dst, "is_mobile", d.IsMobile)
	if d.ScreenHeight != nil {
		dst = strconv.AppendInt(append(dst, `,"screen_height":`...), int64(*d.ScreenHeight), 10)
	}
	if d.ScreenWidth != nil {
		dst = strconv.AppendInt(append(dst, `,"screen_width":`...), int64(*d.ScreenWidth), 10)
	}
	if d.ScreenDensity != nil {
		dst = appendFloat(append(dst, `,"screen_density":`...), *d.ScreenDensity)
	}
	dst = appendField(dst, "fingerprint", d.Fingerprint, false)
	dst = appendField(dst, "manufacturer", d.Manufacturer, false)
	return append(dst, '}')
}

func (n *Network) appendJSON(dst []byte) []byte {
	dst = append(dst, `,"network":{`...)
	start := len(dst)
	dst = appendField(dst, "carrier", n.Carrier, false)
	dst = appendBool(dst, "bluetooth_enabled", n.BluetoothEnabled)
	dst = appendBool(dst, "cellular_enabled", n.CellularEnabled)
	dst = appendBool(dst, "wifi_enabled", n.WifiEnabled)
	if len(dst) > start {
		copy(dst[start:], dst[start+1:]) // drop the first field's leading comma
		dst = dst[:len(dst)-1]
	}
	return append(dst, '}')
}

func appendProperties(dst []byte, props map[string]Value) []byte {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys) // encoding/json writes map keys in sorted order
	dst = append(dst, `,"properties":{`...)
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		v := props[k]
		if v.Kind == String {
			dst = appendString(dst, v.Text)
		} else {
			dst = append(dst, v.Text...)
		}
	}
	return append(dst, '}')
}

// appendField appends ,"name":"value", leaving it out when value is empty
// and the field is optional.
func appendField(dst []byte, name, value string, required bool) []byte {
	if value == "" && !required {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, value)
}

func appendBool(dst []byte, name string, v *bool) []byte {
	if v == nil {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendBool(dst, *v)
}

// appendFloat formats like encoding/json: shortest form, exponent only for
// very small or very large magnitudes.
func appendFloat(dst []byte, f float64) []byte {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string with encoding/json's escaping,
// HTML characters included.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
