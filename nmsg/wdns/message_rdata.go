package wdns

// parseRdata is _wdns_parse_rdata: it appends the rdata at msg[off:off+rdlen]
// with embedded names decompressed, checking it against the type's layout.
func parseRdata(dst, msg []byte, off, rdlen int, rrtype, rrclass uint16) ([]byte, error) {
	start := len(dst)
	d := lookupDescr(rrtype)
	if d == nil || (d.inOnly && rrclass != ClassIN) {
		return append(dst, msg[off:off+rdlen]...), nil
	}
	src := off
	n := rdlen
	fail := func(err error) ([]byte, error) { return dst[:start], err }
	copyN := func(k int) bool {
		if n < k {
			return false
		}
		dst = append(dst, msg[src:src+k]...)
		src += k
		n -= k
		return true
	}
	for _, f := range d.fields {
		if n == 0 {
			break
		}
		switch f {
		case rdfName, rdfUname:
			var err error
			dst, err = unpackName(dst, msg, src)
			if err != nil {
				return fail(err)
			}
			end := skipName(msg, src)
			n -= end - src
			src = end
			if n < 0 {
				return fail(ErrOutOfBounds)
			}
		case rdfBytes, rdfBytesB64, rdfBytesStr, rdfEDNSOpt:
			copyN(n)
		case rdfInt8:
			if !copyN(1) {
				return fail(ErrParse)
			}
		case rdfInt16, rdfRRType:
			if !copyN(2) {
				return fail(ErrParse)
			}
		case rdfInt32, rdfIPv4:
			if !copyN(4) {
				return fail(ErrParse)
			}
		case rdfIPv6:
			if !copyN(16) {
				return fail(ErrParse)
			}
		case rdfEUI48:
			if !copyN(6) {
				return fail(ErrParse)
			}
		case rdfEUI64:
			if !copyN(8) {
				return fail(ErrParse)
			}
		case rdfString, rdfSalt, rdfHash:
			if !copyN(int(msg[src]) + 1) {
				return fail(ErrParse)
			}
		case rdfRepString:
			for n > 0 {
				if !copyN(int(msg[src]) + 1) {
					return fail(ErrParse)
				}
			}
		case rdfIPv6Prefix:
			plen := int(msg[src])
			if plen > 128 {
				return fail(ErrOutOfBounds)
			}
			oclen := (128 - plen) / 8
			if plen%8 != 0 {
				oclen++
			}
			if !copyN(oclen + 1) {
				return fail(ErrParse)
			}
		case rdfTypeBitmap:
			for n >= 2 {
				blen := int(msg[src+1])
				if blen < 1 || blen > 32 || blen > n-2 {
					return fail(ErrOutOfBounds)
				}
				copyN(2 + blen)
			}
		case rdfSvcParams:
			for n > 0 {
				if n < 4 {
					return fail(ErrParse)
				}
				key := be16(msg[src:])
				vlen := int(be16(msg[src+2:]))
				if 4+vlen > n {
					return fail(ErrOutOfBounds)
				}
				if !svcParamValid(key, msg[src+4:src+4+vlen]) {
					return fail(ErrParse)
				}
				copyN(4 + vlen)
			}
		}
	}
	if n != 0 {
		return fail(ErrOutOfBounds)
	}
	return dst, nil
}

// svcParamValid is wdns's svcparam_key_validate.
func svcParamValid(key uint16, v []byte) bool {
	switch key {
	case svcMandatory:
		return len(v)%2 == 0
	case svcALPN:
		if len(v) == 0 {
			return false
		}
		i := 0
		for i < len(v) {
			i += 1 + int(v[i])
		}
		return i == len(v)
	case svcNoDefALPN:
		return len(v) == 0
	case svcPort:
		return len(v) == 2
	case svcIPv4Hint:
		return len(v)%4 == 0
	case svcIPv6Hint:
		return len(v)%16 == 0
	case svcInvalid:
		return false
	}
	return true
}
