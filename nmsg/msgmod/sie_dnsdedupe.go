package msgmod

// SIE vendor (vid 2) DNS modules: dnsdedupe (1) and newdomain (5), from
// sie-nmsg dnsdedupe.c, newdomain.c and their .proto files.

var dnsDedupeType = enumSeq("INSERTION", "EXPIRATION", "CHAFF", "AUTHORITATIVE",
	"MERGED", "MERGED_AUTHORITATIVE", "MERGED_INSERTION")

func sieTimeField(name string, tag int32) Field {
	return Field{Name: name, Tag: numT(tag), Type: ftUint32, PB: pbUvarint,
		format: timeFormat, parse: timeParse, kind: fkTime}
}

func sieNameField(name string, tag int32) Field {
	return Field{Name: name, Tag: numT(tag), Type: ftBytes, PB: pbBytes,
		print: namePrint, format: nameFormat, parse: nameParse, kind: fkName}
}

func sieClassField(name string, tag int32) Field {
	return Field{Name: name, Tag: numT(tag), Type: ftUint16, PB: pbUvarint,
		print: sieClassPrint, format: sieClassFormat, parse: sieClassParse, kind: fkSIEClass}
}

func typeField(name string, tag int32) Field {
	return Field{Name: name, Tag: numT(tag), Type: ftUint16, PB: pbUvarint,
		print: typePrint, format: typeFormat, parse: typeParse, kind: fkType}
}

func rdataField(tag int32) Field {
	return Field{Name: "rdata", Tag: numT(tag), Type: ftBytes, PB: pbBytes, Repeated: true,
		print: rdataPrint, format: rdataFormat, parse: rdataParse, kind: fkRdata}
}

func messageField(name string, tag int32) Field {
	return Field{Name: name, Tag: numT(tag), Type: ftBytes, PB: pbBytes,
		print: messagePrint, format: messageFormat, parse: messageParse}
}

func init() {
	register(&Module{Vid: 2, Msgtype: 1, VName: "SIE", MName: "dnsdedupe", Fields: []Field{
		{Name: "type", Tag: 13, Type: ftEnum, PB: pbUvarint, Enum: dnsDedupeType},
		{Name: "count", Tag: 10, Type: ftUint32, PB: pbUvarint},
		sieTimeField("time_first", 11),
		sieTimeField("time_last", 12),
		sieTimeField("zone_time_first", 17),
		sieTimeField("zone_time_last", 18),
		{Name: "response_ip", Tag: 14, Type: ftIP, PB: pbBytes},
		sieNameField("bailiwick", 16),
		sieNameField("rrname", 1),
		sieClassField("rrclass", 3),
		typeField("rrtype", 2),
		{Name: "rrttl", Tag: 4, Type: ftUint32, PB: pbUvarint},
		rdataField(5),
		messageField("response", 15),
	}})
	register(&Module{Vid: 2, Msgtype: 5, VName: "SIE", MName: "newdomain", Fields: []Field{
		sieNameField("domain", 1),
		sieTimeField("time_seen", 2),
		{Name: "type", Tag: 13, Type: ftEnum, PB: pbUvarint, Enum: dnsDedupeType},
		{Name: "count", Tag: 10, Type: ftUint32, PB: pbUvarint},
		sieTimeField("time_first", 11),
		sieTimeField("time_last", 12),
		sieTimeField("zone_time_first", 17),
		sieTimeField("zone_time_last", 18),
		{Name: "response_ip", Tag: 14, Type: ftIP, PB: pbBytes},
		sieNameField("bailiwick", 16),
		sieNameField("rrname", 3),
		sieClassField("rrclass", 5),
		typeField("rrtype", 4),
		{Name: "rrttl", Tag: 6, Type: ftUint32, PB: pbUvarint},
		rdataField(7),
		messageField("response", 15),
		{Name: "keys", Tag: 9, Type: ftString, PB: pbBytes, Repeated: true},
		{Name: "new_domain", Tag: 19, Type: ftBool, PB: pbUvarint},
		{Name: "new_rrname", Tag: 20, Type: ftBool, PB: pbUvarint},
		{Name: "new_rrtype", Tag: 21, Type: ftBool, PB: pbUvarint},
		{Name: "new_rr", Tag: 22, Type: ftBool, PB: pbUvarint, Repeated: true},
		{Name: "new_rrset", Tag: 23, Type: ftBool, PB: pbUvarint},
	}})
}
