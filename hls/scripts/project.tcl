# The Vitis HLS project of the TeLLMe accelerator (sourced by csim.tcl, csynth.tcl, cosim.tcl and
# export.tcl; hls/README.md says how to run them). Written for Vitis HLS 2023.2 (vitis_hls -f);
# never run on the machine this repository is developed on (no Vitis there: see hls/README.md).
#
# Run from the repository root:  vitis_hls -f hls/scripts/csynth.tcl [-tclargs <board>]
# The board (default kv260) selects hls/gen/<board> (config.hpp, tl_registers.hpp) and the RTL
# blackbox description of the TLMM engine, hw/gen/<board>/tlmm_engine_hls.json (`tellme hwgen`).

set board kv260
if {[info exists ::argv] && [llength $::argv] > 0} { set board [lindex $::argv 0] }
set root [pwd]
if {![file exists $root/hls/gen/$board/config.hpp]} {
  error "run from the repository root (hls/gen/$board/config.hpp not found); for another board run `make hwgen` first"
}

# Part and clock of the kv260 build (hw/boards/kv260.json: xck26-sfvc784-2LV-c, 250 MHz).
set part xck26-sfvc784-2LV-c
set clock_ns 4.0

# -ffp-contract=off: a fused multiply-add changes the bits docs/numerics.md defines (Vitis's
# csim compiler is clang-based and honours it; synthesis binds each f32 operation to its own core).
set cflags "-std=c++17 -ffp-contract=off -I$root/hls/include -I$root/hls/gen -I$root/hls/gen/$board -I$root/hls/src"

open_project -reset build/vitis/tellme_accel_$board
set_top tellme_accel
# Every kernel but the TLMM engine, whose C model hls/src/tlmm_engine_hls.cpp comes with the RTL
# blackbox: in C simulation Vitis runs that C model, in synthesis it instantiates hw/rtl's
# tlmm_engine_hls (ap_ctrl_chain, the ports the JSON lists).
foreach f [glob $root/hls/src/*.cpp] {
  if {[file tail $f] ne "tlmm_engine_hls.cpp"} { add_files $f -cflags $cflags }
}
add_files -blackbox $root/hw/gen/$board/tlmm_engine_hls.json

open_solution -reset -flow_target vivado solution_$board
set_part $part
create_clock -period $clock_ns -name default
# Registers at the offsets of hw/spec/registers.json (TL_CONTROL_INTERFACE() places each one);
# m_axi ports with 64-bit addresses.
config_interface -m_axi_addr64=true -m_axi_alignment_byte_size 64 -m_axi_max_widen_bitwidth 512
config_compile -pipeline_loops 0
