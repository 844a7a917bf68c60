package journey

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// exactKeys checks that every member name of the JSON object raw is a field
// of t spelled exactly as its json tag, recursing into nested objects.
// encoding/json matches names without regard to case, so "USER_ID" would
// otherwise set user_id; the API rejects such names as unknown fields. A raw
// value that is not an object is left to the decoder to report.
func exactKeys(c *checker, prefix string, raw json.RawMessage, t reflect.Type) bool {
	var members map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &members) != nil {
		return true
	}
	fields := fieldsOf(t)
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ft, ok := fields[name]
		if !ok {
			field := joinField(prefix, name)
			c.add(field, CodeUnknownField, "%s is not a field of this API (names are case-sensitive); remove it, or send it inside properties", field)
			return false
		}
		if ft.Kind() == reflect.Struct && !exactKeys(c, joinField(prefix, name), members[name], ft) {
			return false
		}
	}
	return true
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldsOf returns t's JSON member names, embedded structs' included, each
// with its type after pointers are removed.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && ft.Kind() == reflect.Struct {
			for name, inner := range fieldsOf(ft) {
				fields[name] = inner
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = ft
		}
	}
	fieldCache.Store(t, fields)
	return fields
}
