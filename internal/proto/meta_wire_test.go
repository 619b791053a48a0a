package proto

import (
	"slices"
	"strings"
)

// allWireCases are the classic and the meta wire cases.
func allWireCases() []wireCase { return slices.Concat(wireCases, metaWireCases) }

var (
	// metaFlags17 is an mg with 17 flags, the most memcached takes.
	metaFlags17 = "mg zz c f h k l s t u v Oo P L T30 R30 q N E"
	opaque31    = "O" + strings.Repeat("o", 31)
	opaque32    = "O" + strings.Repeat("o", 32)
)

// metaWireCases are the meta commands' wire cases. None returns a CAS
// value, which depends on every store before it.
var metaWireCases = []wireCase{
	// Verbs and token counts.
	{name: "mn", in: "mn\r\n", want: "MN\r\n"},
	{name: "mn_ignores_tokens", in: "mn foo bar\r\n", want: "MN\r\n"},
	{name: "mg_without_key", in: "mg\r\n", want: "ERROR\r\n"},
	{name: "ms_without_key", in: "ms\r\n", want: "ERROR\r\n"},
	{name: "md_without_key", in: "md\r\n", want: "ERROR\r\n"},
	{name: "ma_without_key", in: "ma\r\n", want: "ERROR\r\n"},
	{name: "me_without_key", in: "me\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "unknown_meta_verb", in: "mx a\r\n", want: "ERROR\r\n"},
	{name: "meta_verb_is_case_sensitive", in: "MG a\r\n", want: "ERROR\r\n"},

	// mg.
	{name: "mg_miss", in: "mg a v\r\n", want: "EN\r\n"},
	{name: "mg_key_only", in: "ms a 1\r\nb\r\nmg a\r\nmg zz\r\n", want: "HD\r\nHD\r\nEN\r\n"},
	{name: "mg_hit_flags", in: "ms a 3 F5\r\nabc\r\nmg a v f s k Oxy\r\n", want: "HD\r\nVA 3 f5 s3 ka Oxy\r\nabc\r\n"},
	{name: "mg_hit_without_value", in: "ms a 3 F5\r\nabc\r\nmg a f s\r\n", want: "HD\r\nHD f5 s3\r\n"},
	{name: "mg_ttl_unlimited", in: "ms a 1\r\nb\r\nmg a t v\r\n", want: "HD\r\nVA 1 t-1\r\nb\r\n"},
	{name: "mg_miss_key_and_opaque", in: "mg zz k O1\r\n", want: "EN kzz O1\r\n"},
	{name: "mg_hit_before", in: "ms a 1\r\nb\r\nmg a h\r\nmg a h\r\n", want: "HD\r\nHD h0\r\nHD h1\r\n"},
	{name: "mg_no_bump", in: "ms a 1\r\nb\r\nmg a h u\r\nmg a h\r\n", want: "HD\r\nHD h0\r\nHD h0\r\n"},
	{name: "mg_vivify", in: "mg a N30 v\r\nmg a v\r\n", want: "VA 0 W\r\n\r\nVA 0 Z\r\n\r\n"},
	{name: "mg_recache", in: "ms a 1 T30\r\nb\r\nmg a R60 v\r\nmg a R60 v\r\n", want: "HD\r\nVA 1 W\r\nb\r\nVA 1 Z\r\nb\r\n"},
	{name: "mg_touch", in: "ms a 1\r\nb\r\nmg a T-1\r\nmg a\r\n", want: "HD\r\nHD\r\nEN\r\n"},
	{name: "mg_ignores_P_and_L", in: "mg a Pfoo Lbar\r\n", want: "EN\r\n"},
	{name: "mg_flag_letter_only_counts", in: "ms a 1\r\nb\r\nmg a vxyz\r\n", want: "HD\r\nVA 1\r\nb\r\n"},
	{name: "mg_quiet", in: "ms a 1\r\nb\r\nmg zz v q\r\nmg a v q\r\nmg zz q k O1\r\nmg a q k\r\nmn\r\n",
		want: "HD\r\nVA 1\r\nb\r\nHD ka\r\nMN\r\n"},
	{name: "mg_17_flags", in: metaFlags17 + "\r\n", want: "CLIENT_ERROR invalid flag\r\n"},
	{name: "mg_18_flags", in: metaFlags17 + " x\r\n", want: "CLIENT_ERROR options flags are too long\r\n"},
	{name: "mg_duplicate_flag", in: "mg a v v\r\n", want: "CLIENT_ERROR duplicate flag\r\n"},
	{name: "mg_duplicate_q", in: "mg a q q\r\n", want: "CLIENT_ERROR duplicate flag\r\n"},
	{name: "mg_invalid_flag", in: "mg a !\r\n", want: "CLIENT_ERROR invalid flag\r\n"},
	{name: "mg_invalid_flag_quiet", in: "mg a q !\r\n", want: "CLIENT_ERROR invalid flag\r\n"},
	{name: "mg_high_byte_flag", in: "mg a \xc3\xa9\r\n", want: "CLIENT_ERROR duplicate flag\r\n"},
	{name: "mg_invalid_flag_after_duplicate", in: "mg a v v !\r\n", want: "CLIENT_ERROR duplicate flag\r\n"},
	{name: "mg_ttl_without_number", in: "mg a T\r\n", want: "CLIENT_ERROR bad token in command line format\r\n"},
	{name: "mg_ttl_not_a_number", in: "mg a T1x\r\n", want: "CLIENT_ERROR bad token in command line format\r\n"},
	{name: "mg_ttl_with_sign_and_space", in: "mg zz T+5 N\t7 v\r\n", want: "VA 0 W\r\n\r\n"},
	{name: "mg_ttl_with_leading_tab", in: "mg zz T\t+5 v\r\n", want: "EN\r\n"},
	{name: "mg_ttl_over_64_bits", in: "mg a T99999999999999999999\r\n", want: "CLIENT_ERROR bad token in command line format\r\n"},
	{name: "mg_opaque_31", in: "mg zz " + opaque31 + "\r\n", want: "EN " + opaque31 + "\r\n"},
	{name: "mg_opaque_32_is_the_nodes_error", in: "mg zz q " + opaque32 + "\r\n", want: "CLIENT_ERROR opaque token too long\r\n"},
	{name: "mg_opaque_too_long_after_touch", in: "ms a 1\r\nb\r\nmg a T-1 " + opaque32 + "\r\nmg a\r\n",
		want: "HD\r\nCLIENT_ERROR opaque token too long\r\nEN\r\n"},
	{name: "mg_key_of_250_bytes", in: "ms " + key250 + " 1\r\nb\r\nmg " + key250 + " v\r\n", want: "HD\r\nVA 1\r\nb\r\n"},
	{name: "mg_key_of_251_bytes", in: "mg " + key251 + " v\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "mg_key_with_control_bytes", in: "ms a\x01\tb 1\r\nx\r\nmg a\x01\tb v\r\n", want: "HD\r\nVA 1\r\nx\r\n"},
	{name: "mg_line_ends_at_nul", in: "mg zz\x00 junk v\r\n", want: "EN\r\n"},
	{name: "mn_line_ends_at_nul", in: "mn\x00x\r\n", want: "MN\r\n"},
	{name: "meta_line_too_long", in: "mg a v P" + strings.Repeat("x", 3000) + "\r\n",
		want: "CLIENT_ERROR line too long\r\n", closed: true,
		differs: "a meta line that memcached could see in two reads is refused", memcached: "EN\r\n"},

	// Base64 keys.
	{name: "base64_key_is_the_decoded_key", in: "ms YQ== 1 b\r\nx\r\nget a\r\nmg YQ== b v k\r\nmg a k\r\n",
		want: "HD\r\nVALUE a 0 1\r\nx\r\nEND\r\nVA 1 kYQ== b\r\nx\r\nHD kYQ== b\r\n"},
	{name: "base64_binary_key", in: "ms YSBiDQo= 1 b\r\nx\r\nmg YSBiDQo= b v\r\nmd YSBiDQo= b\r\nmg YSBiDQo= b v\r\n",
		want: "HD\r\nVA 1\r\nx\r\nHD\r\nEN\r\n"},
	{name: "base64_decoder_skips_other_bytes", in: "ms a 1\r\nx\r\nmg Y!Q=!= b k v\r\n", want: "HD\r\nVA 1 ka\r\nx\r\n"},
	{name: "base64_stops_at_padding", in: "ms a 1\r\nx\r\nmg YQ==Yg== b v\r\n", want: "HD\r\nVA 1\r\nx\r\n"},
	{name: "base64_bad_mg", in: "mg a b\r\n", want: "CLIENT_ERROR error decoding key\r\n"},
	{name: "base64_bad_padding", in: "mg A=== b\r\n", want: "CLIENT_ERROR error decoding key\r\n"},
	{name: "base64_bad_md", in: "md YQ b\r\n", want: "CLIENT_ERROR invalid or duplicate flag\r\n"},
	{name: "base64_bad_ma", in: "ma YQ b\r\n", want: "CLIENT_ERROR invalid or duplicate flag\r\n"},
	{name: "base64_bad_ms_skips_block", in: "ms a 1 b\r\nx\r\nmn\r\n", want: "CLIENT_ERROR error decoding key\r\nMN\r\n"},
	{name: "base64_bad_then_bad_number", in: "mg a b Tx\r\n", want: "CLIENT_ERROR bad token in command line format\r\n"},
	{name: "me_base64", in: "me YQ b\r\nme YQ== b\r\n", want: "CLIENT_ERROR bad command line format\r\nEN\r\n"},
	{name: "me_flag_must_be_b_alone", in: "me a bx\r\nme a v\r\n", want: "EN\r\nEN\r\n"},
	{name: "me_key_of_251_bytes", in: "me " + key251 + "\r\n", want: "CLIENT_ERROR bad command line format\r\n"},

	// ms.
	{name: "ms_missing_length", in: "ms a\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "ms_bad_length_leaves_block", in: "ms a x\r\nab\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "ms_negative_length", in: "ms a -1\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "ms_length_truncated_to_32_bits", in: "ms a 4294967297\r\nb\r\nmg a v\r\n", want: "HD\r\nVA 1\r\nb\r\n"},
	{name: "ms_length_over_int32_after_truncation", in: "ms a 2147483648\r\nmn\r\n", want: "CLIENT_ERROR bad command line format\r\nMN\r\n"},
	{name: "ms_key_of_251_bytes_leaves_block", in: "ms " + key251 + " 1\r\nb\r\n", want: "CLIENT_ERROR bad command line format\r\nERROR\r\n"},
	{name: "ms_17_flags_leaves_block", in: "ms a 1 c f h k l s t u v O P L T0 R0 N I x\r\nb\r\n",
		want: "CLIENT_ERROR options flags too long\r\nERROR\r\n"},
	{name: "ms_duplicate_flag_skips_block", in: "ms a 1 v v\r\nb\r\nmn\r\n", want: "CLIENT_ERROR duplicate flag\r\nMN\r\n"},
	{name: "ms_invalid_flag_skips_block", in: "ms a 1 !\r\nb\r\nmn\r\n", want: "CLIENT_ERROR invalid flag\r\nMN\r\n"},
	{name: "ms_bad_client_flags", in: "ms a 1 F-1\r\nb\r\nmn\r\n", want: "CLIENT_ERROR bad command line format\r\nMN\r\n"},
	{name: "ms_bad_client_flags_keeps_earlier_message", in: "ms a 1 Tx F-1\r\nb\r\nmn\r\n", want: "CLIENT_ERROR bad token in command line format\r\nMN\r\n"},
	{name: "ms_client_flags_truncated_to_32_bits", in: "ms a 1 F4294967301\r\nb\r\nmg a f v\r\n", want: "HD\r\nVA 1 f5\r\nb\r\n"},
	{name: "ms_bad_cas", in: "ms a 1 Cx\r\nb\r\nmn\r\n", want: "CLIENT_ERROR bad token in command line format\r\nMN\r\n"},
	{name: "ms_mode_length", in: "ms a 1 MEE\r\nb\r\nmn\r\n", want: "CLIENT_ERROR incorrect length for M token\r\nMN\r\n"},
	{name: "ms_bad_mode", in: "ms a 1 MX\r\nb\r\nmn\r\n", want: "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n"},
	{name: "ms_bad_mode_over_long_opaque", in: "ms a 1 MX " + opaque32 + "\r\nb\r\nmn\r\n", want: "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n"},
	{name: "ms_long_opaque", in: "ms a 1 " + opaque32 + "\r\nb\r\nmg a\r\n", want: "CLIENT_ERROR opaque token too long\r\nEN\r\n"},
	{name: "ms_key_and_opaque", in: "ms a 1 k Oz\r\nb\r\nms a 1 Oz k\r\nb\r\n", want: "HD ka Oz\r\nHD Oz ka\r\n"},
	{name: "ms_empty_value", in: "ms a 0\r\n\r\nmg a v\r\n", want: "HD\r\nVA 0\r\n\r\n"},
	{name: "ms_binary_value", in: "ms a 6\r\n\x00\r\n\x01\r\n\r\nmg a v\r\n", want: "HD\r\nVA 6\r\n\x00\r\n\x01\r\n\r\n"},
	{name: "ms_value_larger_than_buffer", in: "ms a 10000\r\n" + value10 + "\r\nmg a v\r\n", want: "HD\r\nVA 10000\r\n" + value10 + "\r\n"},
	{name: "ms_bad_data_chunk", in: "ms a 1 q\r\nbc\r\nmg a v\r\n", want: "CLIENT_ERROR bad data chunk\r\nERROR\r\nEN\r\n"},
	{name: "ms_too_large", in: "ms a 2000000 q\r\n" + big + "\r\nmg a v\r\n", want: "SERVER_ERROR object too large for cache\r\nEN\r\n"},
	{name: "ms_too_large_drops_old_value", in: "ms a 1\r\nb\r\nms a 2000000 MA\r\n" + big + "\r\nmg a v\r\n",
		want: "HD\r\nSERVER_ERROR object too large for cache\r\nEN\r\n"},
	{name: "ms_too_large_drops_old_base64_value", in: "ms YSBi 1 b\r\nb\r\nms YSBi 2000000 b\r\n" + big + "\r\nmg YSBi b v\r\n",
		want: "HD\r\nSERVER_ERROR object too large for cache\r\nEN\r\n"},
	{name: "ms_too_large_bad_mode", in: "ms a 2000000 MX\r\n" + big + "\r\nmn\r\n", want: "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n"},
	{name: "ms_modes", in: "ms a 1 ME\r\nb\r\nms a 1 ME\r\nc\r\nms a 1 MA\r\nd\r\nms a 1 MP\r\ne\r\nms zz 1 MR\r\nf\r\nms zz 1 MA\r\nf\r\nms a 1 MS\r\ng\r\nmg a v\r\n",
		want: "HD\r\nNS\r\nHD\r\nHD\r\nNS\r\nNS\r\nHD\r\nVA 1\r\ng\r\n"},
	{name: "ms_append_value", in: "ms a 1\r\nb\r\nms a 1 MA\r\nc\r\nms a 1 MP\r\na\r\nmg a v\r\n", want: "HD\r\nHD\r\nHD\r\nVA 3\r\nabc\r\n"},
	{name: "ms_cas_missing", in: "ms a 1 C999\r\nb\r\n", want: "NF\r\n"},
	{name: "ms_cas_mismatch", in: "ms a 1\r\nb\r\nms a 1 C1 q\r\nc\r\n", want: "HD\r\nEX\r\n"},
	{name: "ms_quiet", in: "ms a 1 q\r\nb\r\nms a 1 q ME\r\nc\r\nmn\r\n", want: "NS\r\nMN\r\n"},
	{name: "ms_ttl_and_flags", in: "ms a 1 T0 F7 I\r\nb\r\nmg a f t v\r\n", want: "HD\r\nVA 1 f7 t-1\r\nb\r\n"},

	// md.
	{name: "md_miss", in: "md a\r\n", want: "NF\r\n"},
	{name: "md_quiet", in: "ms a 1\r\nb\r\nmd a q\r\nmd a q\r\nmn\r\n", want: "HD\r\nNF\r\nMN\r\n"},
	{name: "md_key_and_opaque", in: "md zz k Oq\r\n", want: "NF kzz Oq\r\n"},
	{name: "md_cas_mismatch", in: "ms a 1\r\nb\r\nmd a C1 q\r\n", want: "HD\r\nEX\r\n"},
	{name: "md_invalidate", in: "ms a 1\r\nb\r\nmd a I T30\r\nmg a v\r\nmg a v\r\n", want: "HD\r\nHD\r\nVA 1 X W\r\nb\r\nVA 1 Z X\r\nb\r\n"},
	{name: "md_duplicate_flag", in: "md a q q\r\n", want: "CLIENT_ERROR invalid or duplicate flag\r\n"},
	{name: "md_18_flags", in: "md a c f h k l s t u v O P L T0 R0 N I x y\r\n", want: "CLIENT_ERROR options flags too long\r\n"},
	{name: "md_key_of_251_bytes", in: "md " + key251 + " q\r\n", want: "CLIENT_ERROR bad command line format\r\n"},
	{name: "md_opaque_too_long_is_the_nodes_error", in: "md a " + opaque32 + "\r\n", want: "CLIENT_ERROR opaque token too long\r\n"},

	// ma.
	{name: "ma_miss", in: "ma a\r\n", want: "NF\r\n"},
	{name: "ma_vivify", in: "ma a N0 J5 v\r\nma a v\r\n", want: "VA 1\r\n5\r\nVA 1\r\n6\r\n"},
	{name: "ma_modes", in: "ms a 1\r\n5\r\nma a D3 v\r\nma a MD D10 v\r\nma a M+ v\r\nma a M- v\r\nma a MI\r\n",
		want: "HD\r\nVA 1\r\n8\r\nVA 1\r\n0\r\nVA 1\r\n1\r\nVA 1\r\n0\r\nHD\r\n"},
	{name: "ma_quiet", in: "ms a 1\r\n5\r\nma a q\r\nma a q v\r\nma zz q\r\nma zz q N0\r\nma zz q N0 v\r\nma a v\r\nmn\r\n",
		want: "HD\r\nNF\r\nHD\r\nVA 1\r\n8\r\nMN\r\n"},
	{name: "ma_quiet_vivify_value", in: "ma zz q N0 J7 v\r\nmn\r\n", want: "VA 1\r\n7\r\nMN\r\n"},
	{name: "ma_quiet_key_and_opaque", in: "ma zz q k O5\r\nma zz q N0 k O6\r\nmn\r\n", want: "NF kzz O5\r\nHD kzz O6\r\nMN\r\n"},
	{name: "ma_non_numeric", in: "ms a 1\r\nx\r\nma a q\r\n", want: "HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"},
	{name: "ma_bad_mode", in: "ma a MX\r\n", want: "CLIENT_ERROR invalid mode for ma M token\r\n"},
	{name: "ma_bad_delta", in: "ma a Dx\r\nma a J-1\r\n", want: "CLIENT_ERROR invalid or duplicate flag\r\nCLIENT_ERROR invalid or duplicate flag\r\n"},
	{name: "ma_cas_mismatch", in: "ms a 1\r\n5\r\nma a C1\r\n", want: "HD\r\nEX\r\n"},
	{name: "ma_opaque_too_long_after_increment", in: "ms a 1\r\n5\r\nma a " + opaque32 + "\r\nmg a v\r\n",
		want: "HD\r\nCLIENT_ERROR opaque token too long\r\nVA 1\r\n6\r\n"},
	{name: "ma_ttl", in: "ma a N0 t\r\n", want: "HD t-1\r\n"},

	// me.
	{name: "me_miss", in: "me zz\r\n", want: "EN\r\n"},

	// Meta and classic commands in one pipeline.
	{name: "meta_and_classic_mixed", in: "set a 0 0 1\r\nb\r\nmg a v\r\nget a\r\nms a 2 F3 q\r\nxy\r\nget a\r\nmd a q\r\nget a\r\nmn\r\nincr a 1\r\nma a N0 J9 v\r\ndecr a 1\r\n",
		want: "STORED\r\nVA 1\r\nb\r\nVALUE a 0 1\r\nb\r\nEND\r\nVALUE a 3 2\r\nxy\r\nEND\r\nEND\r\nMN\r\nNOT_FOUND\r\nVA 1\r\n9\r\n8\r\n"},
}
