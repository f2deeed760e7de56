package msgmod

// Base vendor (vid 1) modules without computed fields: email (2),
// linkpair (3), http (4), ipconn (5), logline (6), pkt (8), xml (10),
// packet (12), from libnmsg nmsg/base/*.c and *.proto.

func init() {
	register(&Module{Vid: 1, Msgtype: 2, VName: "base", MName: "email", Fields: []Field{
		{Name: "type", Tag: 8, Type: ftEnum, PB: pbUvarint,
			Enum: enumSeq("unknown", "spamtrap", "rej_network", "rej_content", "rej_user")},
		{Name: "headers", Tag: 2, Type: ftMlstring, PB: pbBytes},
		{Name: "srcip", Tag: 3, Type: ftIP, PB: pbBytes},
		{Name: "srchost", Tag: 4, Type: ftString, PB: pbBytes},
		{Name: "helo", Tag: 5, Type: ftString, PB: pbBytes},
		{Name: "from", Tag: 6, Type: ftString, PB: pbBytes},
		{Name: "rcpt", Tag: 7, Type: ftString, PB: pbBytes, Repeated: true},
		{Name: "bodyurl", Tag: 9, Type: ftString, PB: pbBytes, Repeated: true},
		{Name: "body", Tag: 10, Type: ftMlstring, PB: pbBytes},
	}})
	register(&Module{Vid: 1, Msgtype: 3, VName: "base", MName: "linkpair", Fields: []Field{
		{Name: "type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: enumSeq("anchor", "redirect")},
		{Name: "src", Tag: 2, Type: ftString, PB: pbBytes, Required: true},
		{Name: "dst", Tag: 3, Type: ftString, PB: pbBytes, Required: true},
		{Name: "headers", Tag: 5, Type: ftMlstring, PB: pbBytes},
	}})
	register(&Module{Vid: 1, Msgtype: 4, VName: "base", MName: "http", Fields: []Field{
		{Name: "type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: enumSeq("unknown", "sinkhole")},
		{Name: "srcip", Tag: 2, Type: ftIP, PB: pbBytes},
		{Name: "srchost", Tag: 3, Type: ftString, PB: pbBytes},
		{Name: "srcport", Tag: 4, Type: ftUint16, PB: pbUvarint},
		{Name: "dstip", Tag: 5, Type: ftIP, PB: pbBytes},
		{Name: "dstport", Tag: 6, Type: ftUint16, PB: pbUvarint},
		{Name: "request", Tag: 7, Type: ftMlstring, PB: pbBytes},
		{Name: "p0f_genre", Tag: 65, Type: ftString, PB: pbBytes},
		{Name: "p0f_detail", Tag: 66, Type: ftString, PB: pbBytes},
		{Name: "p0f_dist", Tag: 67, Type: ftInt16, PB: pbVarint},
		{Name: "p0f_link", Tag: 68, Type: ftString, PB: pbBytes},
		{Name: "p0f_tos", Tag: 69, Type: ftString, PB: pbBytes},
		{Name: "p0f_fw", Tag: 70, Type: ftUint16, PB: pbUvarint},
		{Name: "p0f_nat", Tag: 71, Type: ftUint16, PB: pbUvarint},
		{Name: "p0f_real", Tag: 72, Type: ftUint16, PB: pbUvarint},
		{Name: "p0f_score", Tag: 73, Type: ftInt16, PB: pbVarint},
		{Name: "p0f_mflags", Tag: 74, Type: ftUint16, PB: pbUvarint},
		{Name: "p0f_uptime", Tag: 75, Type: ftInt32, PB: pbVarint},
	}})
	register(&Module{Vid: 1, Msgtype: 5, VName: "base", MName: "ipconn", Fields: []Field{
		{Name: "proto", Tag: 1, Type: ftUint16, PB: pbUvarint},
		{Name: "srcip", Tag: 2, Type: ftIP, PB: pbBytes},
		{Name: "srcport", Tag: 3, Type: ftUint16, PB: pbUvarint},
		{Name: "dstip", Tag: 4, Type: ftIP, PB: pbBytes},
		{Name: "dstport", Tag: 5, Type: ftUint16, PB: pbUvarint},
	}})
	register(&Module{Vid: 1, Msgtype: 6, VName: "base", MName: "logline", Fields: []Field{
		{Name: "category", Tag: 1, Type: ftString, PB: pbBytes},
		{Name: "message", Tag: 2, Type: ftString, PB: pbBytes},
	}})
	register(&Module{Vid: 1, Msgtype: 8, VName: "base", MName: "pkt", Fields: []Field{
		{Name: "len_frame", Tag: 2, Type: ftUint32, PB: pbUvarint},
		{Name: "payload", Tag: 1, Type: ftBytes, PB: pbBytes, Required: true},
	}})
	register(&Module{Vid: 1, Msgtype: 10, VName: "base", MName: "xml", Fields: []Field{
		{Name: "xmltype", Tag: 1, Type: ftString, PB: pbBytes, Required: true},
		{Name: "xmlpayload", Tag: 2, Type: ftBytes, PB: pbBytes, Required: true},
	}})
	register(&Module{Vid: 1, Msgtype: 12, VName: "base", MName: "packet", Fields: []Field{
		{Name: "payload_type", Tag: 1, Type: ftEnum, PB: pbUvarint, Required: true,
			Enum: &Enum{Names: []string{"IP"}, Values: []uint32{1}}},
		{Name: "payload", Tag: 2, Type: ftBytes, PB: pbBytes, Required: true},
	}})
}
