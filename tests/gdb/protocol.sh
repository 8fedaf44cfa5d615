# Protocol abuse gdb itself never sends, from a raw TCP client (run_gdb_test.sh --raw). The guest
# waits (-S) while this runs; when the client vanishes in the middle of a packet, it runs on.
raw_connect
raw_packet '?'
raw_read_packet
raw_send '$qSupported#00'                # wrong checksum: NAK
raw_read 1
raw_send 'noise between packets'         # ignored
raw_packet 'qC'
raw_read_packet
# Bigger than PacketSize (0x4000): consumed to its checksum, acknowledged, answered E01.
big=$(head -c 17000 /dev/zero | tr '\0' a)
printf '$%s#%02x' "$big" $(( (97 * 17000) & 255 )) >&3
raw_read_packet
# Run-length encoded request: "m10*!,4" is "m100000,4" ('!' = 33: four more '0').
raw_packet 'm10*!,4'
raw_read_packet
# Binary write with all four escapes: '#' '$' '}' '*'.
raw_packet $'X500,4:}\x03}\x04}]}\x0a'
raw_read_packet
raw_packet 'm500,4'
raw_read_packet
raw_send '-'                             # NAK: the stub sends its last packet again
raw_read_packet
raw_send '$m500#zz'                      # checksum not hex: NAK
raw_read 1
# A second debugger while this one is connected is hung up on at once.
exec 4<>"/dev/tcp/127.0.0.1/$PORT"
if IFS= read -r -t 5 -u 4 line; then echo "second client: got data"; elif [ $? -gt 128 ]; then echo "second client: still open"; else echo "second client: refused"; fi
exec 4<&-
raw_packet 'qAttached'
raw_read_packet
# Vanish in the middle of a packet.
raw_send '$m100000,'
raw_close
echo "client gone"
