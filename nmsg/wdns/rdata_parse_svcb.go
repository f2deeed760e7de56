package wdns

import (
	"net/netip"
	"strconv"
	"strings"
)

func parseSvcKey(s string) (uint16, bool) {
	switch s {
	case "mandatory":
		return svcMandatory, true
	case "alpn":
		return svcALPN, true
	case "no-default-alpn":
		return svcNoDefALPN, true
	case "port":
		return svcPort, true
	case "ech":
		return svcECH, true
	case "ipv4hint":
		return svcIPv4Hint, true
	case "ipv6hint":
		return svcIPv6Hint, true
	}
	if len(s) > 3 && strings.HasPrefix(s, "key") {
		v, err := strconv.ParseUint(s[3:], 10, 16)
		if err == nil && v < svcInvalid {
			return uint16(v), true
		}
	}
	return 0, false
}

// parseSvcParams is wdns's rdf_svcparams text parser: space-separated
// key=value pairs (values may be quoted), "no-default-alpn" without value.
func parseSvcParams(dst []byte, s string) ([]byte, string, error) {
	for len(s) > 0 {
		if s[0] == ' ' {
			s = s[1:]
			continue
		}
		i := strings.IndexAny(s, "= ")
		if i < 0 {
			i = len(s)
		}
		key, ok := parseSvcKey(s[:i])
		if !ok {
			return dst, s, syntax("SvcParamKey " + strconv.Quote(s[:i]))
		}
		if i == len(s) || s[i] == ' ' {
			if key != svcNoDefALPN {
				// wdns stops here and keeps what it has.
				return dst, "", nil
			}
			dst = append(dst, byte(key>>8), byte(key), 0, 0)
			s = s[i:]
			continue
		}
		val := s[i+1:]
		end := 0
		if strings.HasPrefix(val, `"`) {
			end = 1
			for end < len(val) && val[end] != '"' {
				end++
			}
			if end < len(val) {
				end++
			}
		} else {
			for end < len(val) && val[end] != ' ' {
				end++
			}
		}
		var err error
		dst, err = appendSvcParam(dst, key, val[:end])
		if err != nil {
			return dst, s, err
		}
		s = val[end:]
	}
	return dst, "", nil
}

func appendSvcParam(dst []byte, key uint16, val string) ([]byte, error) {
	dst = append(dst, byte(key>>8), byte(key))
	if key == svcNoDefALPN {
		return dst, syntax("no-default-alpn with a value")
	}
	lenAt := len(dst)
	dst = append(dst, 0, 0)
	switch key {
	case svcMandatory:
		if val == "" {
			return dst, syntax("empty mandatory")
		}
		for _, k := range strings.Split(val, ",") {
			if k == "" {
				continue
			}
			v, ok := parseSvcKey(k)
			if !ok {
				return dst, syntax("mandatory key " + strconv.Quote(k))
			}
			dst = append(dst, byte(v>>8), byte(v))
		}
	case svcPort:
		v, err := strconv.ParseUint(val, 10, 16)
		if err != nil {
			return dst, syntax("port")
		}
		dst = append(dst, byte(v>>8), byte(v))
	case svcECH:
		if val == "" || len(val) > 255 {
			return dst, syntax("ech")
		}
		b, err := decodeBase64(val)
		if err != nil {
			return dst, err
		}
		dst = append(dst, b...)
	case svcIPv4Hint, svcIPv6Hint:
		if val == "" {
			return dst, syntax("empty address hint")
		}
		for _, a := range strings.Split(val, ",") {
			if a == "" {
				continue
			}
			ip, err := netip.ParseAddr(a)
			if err != nil || ip.Zone() != "" || (key == svcIPv4Hint) != ip.Is4() {
				return dst, syntax("address hint " + strconv.Quote(a))
			}
			dst = append(dst, ip.AsSlice()...)
		}
	case svcALPN:
		v, _, err := appendCharString(nil, val)
		if err != nil || len(v) == 0 {
			return dst, syntax("alpn")
		}
		at := len(dst)
		dst = append(dst, 0)
		n := 0
		for i := 0; i < len(v); i++ {
			c := v[i]
			switch c {
			case '\\':
				i++
				if i >= len(v) || (v[i] != '\\' && v[i] != ',') {
					return dst, syntax("alpn escape")
				}
				dst = append(dst, v[i])
				n++
			case ',':
				dst[at] = byte(n)
				at = len(dst)
				dst = append(dst, 0)
				n = 0
			default:
				dst = append(dst, c)
				n++
			}
		}
		if n != 0 {
			dst[at] = byte(n)
		} else {
			dst = dst[:at]
		}
	default:
		v, _, err := appendCharString(nil, val)
		if err != nil {
			return dst, syntax("SvcParamValue")
		}
		dst = append(dst, v...)
	}
	vlen := len(dst) - lenAt - 2
	if vlen > 65535 {
		return dst, syntax("SvcParamValue too long")
	}
	dst[lenAt], dst[lenAt+1] = byte(vlen>>8), byte(vlen)
	return dst, nil
}
