#!/usr/bin/env bash
# Resources of one hw/rtl top module for one board's generated package, by yosys (Debian's 0.23):
#   synth_xilinx -family xcup -uram -flatten  (UltraScale+; URAM inference on, as Vivado does)
# Prints one JSON object of cell counts; the full log and statistics go to build/syn/<board>-<top>/.
#   hw/syn/resources.sh kv260 tlmm_engine
#   hw/syn/resources.sh kv260-paper tlmm_core_build
# yosys is not Vivado: it maps carry chains to CARRY4 (two per CARRY8), keeps LUT1 inverters and
# does not merge three-input adds; docs/measurements.md says what that means for the figures.
set -euo pipefail
board=${1:?board}
top=${2:?top module}
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/build/syn/$board-$top"
mkdir -p "$out"
cd "$root"
yosys -q -l "$out/yosys.log" -p "
  read_verilog -defer -sv hw/gen/$board/tellme_hw_pkg.sv $(ls hw/rtl/*.sv | tr '\n' ' ')
  hierarchy -top $top
  synth_xilinx -family xcup -uram -flatten -top $top
  tee -q -o $out/stat.txt stat
" >/dev/null 2>"$out/warnings.txt"
# Cell counts of the flattened top: "     NAME   COUNT" lines.
awk '/Number of cells:/ {on=1; next} on && NF==2 && $2 ~ /^[0-9]+$/ {print $1, $2} on && NF==0 {if (seen) exit} {if (on && NF==2) seen=1}' "$out/stat.txt" > "$out/cells.txt"
python3 - "$out/cells.txt" "$board" "$top" <<'PY'
import json, sys
cells = {}
for line in open(sys.argv[1]):
    name, n = line.split()
    cells[name] = cells.get(name, 0) + int(n)
# LUTs per cell: logic LUTs, LUT1 inverters, and the LUTs a LUTRAM / SRL primitive occupies.
lut_mem_cost = {'RAM32X1S': 1, 'RAM64X1S': 1, 'RAM128X1S': 2, 'RAM256X1S': 4, 'RAM32X1D': 2, 'RAM64X1D': 2,
                'RAM128X1D': 4, 'RAM32M': 4, 'RAM64M': 4, 'RAM32M16': 8, 'RAM64M8': 8, 'RAM512X1S': 8,
                'RAM32X16DR8': 8, 'RAM64X8SW': 8}
lut_logic = sum(n for c, n in cells.items() if c.startswith('LUT')) + cells.get('INV', 0)
lut_mem = sum(n * lut_mem_cost[c] for c, n in cells.items() if c in lut_mem_cost)
srl = cells.get('SRL16E', 0) + cells.get('SRLC32E', 0)
ff = sum(n for c, n in cells.items() if c in ('FDRE', 'FDSE', 'FDCE', 'FDPE'))
unknown = sorted(c for c in cells if not (c.startswith('LUT') or c in lut_mem_cost or c in (
    'INV', 'SRL16E', 'SRLC32E', 'FDRE', 'FDSE', 'FDCE', 'FDPE', 'CARRY4', 'CARRY8', 'MUXF7', 'MUXF8', 'MUXF9',
    'URAM288', 'RAMB36E2', 'RAMB18E2', 'DSP48E2', 'IBUF', 'OBUF', 'BUFG')))
print(json.dumps({
    'board': sys.argv[2], 'top': sys.argv[3], 'tool': 'yosys 0.23 synth_xilinx -family xcup -uram -flatten',
    'lut': lut_logic + lut_mem + srl, 'lut_logic': lut_logic, 'lutram_luts': lut_mem, 'srl': srl, 'ff': ff,
    'carry4': cells.get('CARRY4', 0), 'uram': cells.get('URAM288', 0),
    'bram36': cells.get('RAMB36E2', 0) + cells.get('RAMB18E2', 0) / 2, 'dsp': cells.get('DSP48E2', 0),
    'cells': cells, 'unclassified': unknown,
}))
PY
