package msgmod

import (
	"encoding/base64"
	"encoding/json"
)

// Base vendor module encode (1:11), from libnmsg nmsg/base/encode.c.

const (
	encodeJSON    = 1
	encodeMsgpack = 3
)

func init() {
	register(&Module{Vid: 1, Msgtype: 11, VName: "base", MName: "encode", Fields: []Field{
		{Name: "type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: enumSeq("TEXT", "JSON", "YAML", "MSGPACK", "XML")},
		{Name: "payload", Tag: 2, Type: ftBytes, PB: pbBytes, Required: true,
			FormatRaw: true, format: encodePayloadFormat},
	}})
}

// encodePayloadFormat is encode_payload_format: {"val":...,"b64":"..."}.
// The value is the payload as a JSON string (TEXT, YAML, XML; raw bytes,
// escaped), as raw JSON when a JSON payload parses, and left out for
// MSGPACK and for JSON that does not parse. nmsgtool validates with json-c,
// which also accepts a valid value followed by more text (it then prints
// invalid JSON); here the whole payload must be valid JSON. nmsgtool
// crashes on an empty TEXT payload (strlen of NULL); it prints "val":""
// here.
func encodePayloadFormat(m *msg, _ *Field, v val, dst []byte) ([]byte, bool) {
	t, _ := m.one(0)
	dst = append(dst, '{')
	hasVal := false
	switch t.u {
	case encodeMsgpack:
	case encodeJSON:
		if len(v.b) > 0 && json.Valid(v.b) {
			dst = append(dst, `"val":`...)
			dst = append(dst, v.b...)
			hasVal = true
		}
	default:
		dst = append(dst, `"val":`...)
		dst = appendJSONString(dst, v.b)
		hasVal = true
	}
	if hasVal {
		dst = append(dst, ',')
	}
	dst = append(dst, `"b64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, v.b)
	return append(dst, '"', '}'), true
}
