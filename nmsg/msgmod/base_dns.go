package msgmod

// Base vendor module dns (1:7), from libnmsg nmsg/base/dns.c.

func baseClassField(name string, tag int32) Field {
	return Field{Name: name, Tag: numT(tag), Type: ftUint16, PB: pbUvarint,
		print: baseClassPrint, format: baseClassFormat, parse: baseClassParse, kind: fkBaseClass}
}

func init() {
	register(&Module{Vid: 1, Msgtype: 7, VName: "base", MName: "dns", Fields: []Field{
		sieNameField("qname", 7),
		baseClassField("qclass", 9),
		typeField("qtype", 8),
		{Name: "section", Tag: 6, Type: ftUint16, PB: pbUvarint},
		sieNameField("rrname", 1),
		baseClassField("rrclass", 3),
		typeField("rrtype", 2),
		{Name: "rrttl", Tag: 4, Type: ftUint32, PB: pbUvarint},
		rdataField(5),
	}})
}
