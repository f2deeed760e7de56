package deflate

// Limits and alphabets of RFC 1951.
const (
	windowSize = 1 << 15 // largest match distance
	minMatch   = 3
	maxMatch   = 258

	numLitLen   = 286 // literals, end of block, 29 length symbols (286, 287 unused)
	numDist     = 30
	numPrecode  = 19
	endOfBlock  = 256
	maxCodeBits = 15
	maxPreBits  = 7
)

// lengthBase and lengthExtra give, per length slot (litlen symbol − 257),
// the smallest match length and the number of extra bits.
var (
	lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// precodeOrder is the order in which the precode's lengths are sent.
	precodeOrder = [numPrecode]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// lengthSlot maps a match length (3..258) to its slot; distSlotTab maps
// distance−1 to its slot: entries 0..255 directly, then one entry per 128
// distances (every slot past 15 spans a multiple of 128), as zlib does.
var (
	lengthSlot  [maxMatch + 1]uint8
	distSlotTab [512]uint8
)

func init() {
	for s := range lengthBase {
		n := 1 << lengthExtra[s]
		for l := int(lengthBase[s]); l < int(lengthBase[s])+n && l <= maxMatch; l++ {
			lengthSlot[l] = uint8(s)
		}
	}
	lengthSlot[maxMatch] = 28
	for s := range distBase {
		n := 1 << distExtra[s]
		for d := int(distBase[s]) - 1; d < int(distBase[s])-1+n; d++ {
			if d < 256 {
				distSlotTab[d] = uint8(s)
			} else {
				distSlotTab[256+d>>7] = uint8(s)
			}
		}
	}
}

// distSlot returns the distance slot of distance d (1..32768).
func distSlot(d uint32) uint32 {
	d--
	if d < 256 {
		return uint32(distSlotTab[d])
	}
	return uint32(distSlotTab[256+(d>>7)&255])
}

// fixedLitLenLens and fixedDistLens are the code lengths of the fixed
// Huffman codes (RFC 1951 §3.2.6).
func fixedLitLenLens() (l [288]uint8) {
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	return l
}

func fixedDistLens() (l [32]uint8) {
	for i := range l {
		l[i] = 5
	}
	return l
}
