package msgmod

// SIE vendor (vid 2) modules reputation (2), qr (3), delay (4) and dnsnx
// (6), from sie-nmsg reputation.c, qr.c, delay.c, dnsnx.c.

func init() {
	register(&Module{Vid: 2, Msgtype: 2, VName: "SIE", MName: "reputation", Fields: []Field{
		{Name: "type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: enumSeq("ADDRESS", "HOST", "DOMAIN", "NAMESERVER", "URI")},
		{Name: "tag", Tag: 2, Type: ftString, PB: pbBytes, Required: true},
		{Name: "value", Tag: 3, Type: ftString, PB: pbBytes},
		{Name: "address", Tag: 4, Type: ftIP, PB: pbBytes},
		{Name: "netmask", Tag: 5, Type: ftIP, PB: pbBytes},
		{Name: "host", Tag: 6, Type: ftString, PB: pbBytes},
		{Name: "domain", Tag: 7, Type: ftString, PB: pbBytes},
		{Name: "nameserver", Tag: 8, Type: ftString, PB: pbBytes},
		{Name: "uri", Tag: 9, Type: ftString, PB: pbBytes},
		{Name: "port", Tag: 10, Type: ftUint16, PB: pbUvarint},
	}})
	register(&Module{Vid: 2, Msgtype: 3, VName: "SIE", MName: "qr", Fields: []Field{
		{Name: "type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: enumSeq("QUERY", "RESPONSE", "RESPONSE_END", "ERROR")},
		{Name: "text", Tag: 2, Type: ftString, PB: pbBytes},
		{Name: "num_response", Tag: 3, Type: ftUint32, PB: pbUvarint},
		{Name: "more_available", Tag: 4, Type: ftUint32, PB: pbUvarint},
	}})
	register(&Module{Vid: 2, Msgtype: 4, VName: "SIE", MName: "delay", Fields: []Field{
		{Name: "query_ip", Tag: 1, Type: ftIP, PB: pbBytes, Required: true},
		{Name: "response_ip", Tag: 2, Type: ftIP, PB: pbBytes, Required: true},
		{Name: "delay", Tag: 3, Type: ftDouble, PB: pbFixed64, Required: true},
		{Name: "response_time_sec", Tag: 4, Type: ftInt64, PB: pbVarint, Required: true},
	}})
	qname := sieNameField("qname", 1)
	qname.Required = true
	qclass := sieClassField("qclass", 3)
	qclass.Required = true
	qtype := typeField("qtype", 2)
	qtype.Required = true
	register(&Module{Vid: 2, Msgtype: 6, VName: "SIE", MName: "dnsnx", Fields: []Field{
		qname,
		qclass,
		qtype,
		{Name: "response_ip", Tag: 4, Type: ftIP, PB: pbBytes, Required: true},
		sieNameField("soa_rrname", 5),
		{Name: "response_time_sec", Tag: 6, Type: ftInt64, PB: pbVarint, NoPrint: true},
		{Name: "response_time_nsec", Tag: 7, Type: ftInt32, PB: pbSfixed32, NoPrint: true},
	}})
}
