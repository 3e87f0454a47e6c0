// Online table precompute (docs/numerics.md §6.2): takes one chunk of 3*T int8 activations and
// writes all 27 entries of all T tables, one entry per cycle (each table LUTRAM has one write
// port): entry k = t0*a0 + t1*a1 + t2*a2, where (t0, t1, t2) are the balanced-ternary digits of k
// (k = 13 + 9 t0 + 3 t1 + t2, the converter's encoding) and (a0, a1, a2) the table's activations.
// The sign symmetry table[26 - k] = -table[k] holds by construction; storing all 27 entries ("full
// storage") keeps the Q*T read ports free of selection and negation logic.
//
// The entries are visited along a path through the 3x3x3 digit cube that changes one digit by +-1
// per step, so each table needs one 10-bit add/subtract of one of its activations per cycle and no
// precompute (about 20 LUTs a table instead of ~80 for evaluating each entry). The path starts at
// (1, 0, 0) = entry 22, whose value is a0 itself; a path from the centre (entry 13) does not exist
// (the cube's grid graph is bipartite with 14 odd and 13 even nodes, the centre is even). The path
// was found by a depth-first search; simulation against the golden tables checks every entry.
// A build takes 28 cycles after the capture (one prep cycle, 27 writes); with TableBanks = 2
// (ping-pong) the next chunk is captured in the cycle the last entry is written, so a chunk can
// start every 28 cycles.
module tlmm_table_builder #(
  parameter int unsigned Tables = 28,
  parameter int unsigned ActBits = 8,
  parameter int unsigned EntryBits = 10,
  parameter int unsigned TableBanks = 2,
  parameter int unsigned CountBits = 24,
  localparam int unsigned BankBits = (TableBanks > 1) ? $clog2(TableBanks) : 1,
  localparam int unsigned EntryAddrBits = 5,
  localparam int unsigned AddrBits = (TableBanks > 1) ? EntryAddrBits + BankBits : EntryAddrBits,
  localparam int unsigned ActWidth = 3 * Tables * ActBits
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        start_i,       // a call begins: builds_i chunks, bank 0 first
  input  logic [CountBits-1:0]        builds_i,
  input  logic                        act_valid_i,
  output logic                        act_ready_o,
  input  logic [ActWidth-1:0]         act_data_i,    // activation j of the chunk at [ActBits*j +: ActBits]
  input  logic [TableBanks-1:0]       bank_busy_i,   // bank holds a table not yet fully looked up
  output logic                        fill_o,        // a build starts in fill_bank_o (it becomes busy)
  output logic [BankBits-1:0]         fill_bank_o,
  output logic                        built_o,       // the table in built_bank_o is complete
  output logic [BankBits-1:0]         built_bank_o,
  output logic                        we_o,
  output logic [AddrBits-1:0]         waddr_o,       // {bank, entry} (entry alone with one bank)
  output logic [Tables*EntryBits-1:0] wdata_o        // table t's entry at [EntryBits*t +: EntryBits]
);
  localparam int unsigned Steps = 27;
  // Entry written at step s: EntrySeq[5*s +: 5] (step 0 = entry 22).
  localparam logic [Steps*5-1:0] EntrySeq = {5'd26, 5'd25, 5'd24, 5'd21, 5'd18, 5'd19, 5'd20, 5'd23, 5'd14, 5'd17, 5'd16, 5'd15, 5'd12, 5'd9, 5'd10, 5'd11, 5'd2, 5'd5, 5'd8, 5'd7, 5'd6, 5'd3, 5'd0, 5'd1, 5'd4, 5'd13, 5'd22};
  // Move from step s to s + 1: {negative, digit j} at StepOps[3*s +: 3]: value += (+-1) * a_j.
  localparam logic [(Steps-1)*3-1:0] StepOps = {3'b010, 3'b010, 3'b001, 3'b001, 3'b110, 3'b110, 3'b101, 3'b000, 3'b101, 3'b010, 3'b010, 3'b001, 3'b001, 3'b110, 3'b110, 3'b000, 3'b101, 3'b101, 3'b010, 3'b010, 3'b001, 3'b001, 3'b110, 3'b101, 3'b100, 3'b100};

  if (TableBanks != 1 && TableBanks != 2) begin : g_check_banks
    $error("tlmm_table_builder: TableBanks = %0d must be 1 (single) or 2 (ping-pong)", TableBanks);
  end
  if (EntryBits < ActBits + 2) begin : g_check_entry
    $error("tlmm_table_builder: EntryBits = %0d cannot hold a sum of three %0d-bit activations", EntryBits, ActBits);
  end

  // Phases of a build: capture (the activations are registered, every value is cleared), one
  // prep cycle (value = 0 + a0 = entry 22), then Steps write cycles (write, then step the value).
  logic                     prep_q, writing_q;
  logic [4:0]               step_q;        // write step (0..Steps-1)
  logic [EntryAddrBits-1:0] entry_q;       // entry written in this write cycle
  logic [2:0]               sel_q;         // one-hot activation added this cycle (a0, a1, a2)
  logic                     neg_q;         // ... or subtracted
  logic [BankBits-1:0]      bank_q;        // bank being written
  logic [BankBits-1:0]      next_bank_q;   // bank the next capture goes to
  logic [CountBits-1:0]     left_q;        // chunks still to capture in this call
  logic [ActWidth-1:0]      act_q;

  logic last_write, capture;
  assign last_write  = writing_q && (step_q == 5'(Steps - 1));
  assign act_ready_o = (left_q != '0) && !prep_q && (!writing_q || last_write) && !bank_busy_i[next_bank_q];
  assign capture     = act_valid_i && act_ready_o;

  assign fill_o       = capture;
  assign fill_bank_o  = next_bank_q;
  assign built_o      = last_write;
  assign built_bank_o = bank_q;
  assign we_o         = writing_q;

  if (TableBanks > 1) begin : g_addr_banked
    assign waddr_o = {bank_q, entry_q};
  end else begin : g_addr_single
    assign waddr_o = entry_q;
  end

  // The move applied in the cycle after step s (the ROMs are read one cycle ahead: registered
  // selects keep the ROM out of every table's add path).
  logic [4:0] next_step;
  logic [2:0] next_op;
  assign next_step = prep_q ? 5'd0 : step_q + 5'd1;
  assign next_op   = (next_step < 5'(Steps - 1)) ? StepOps[3*next_step +: 3] : 3'b000;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      prep_q      <= 1'b0;
      writing_q   <= 1'b0;
      left_q      <= '0;
      next_bank_q <= '0;
    end else begin
      if (start_i) begin
        left_q      <= builds_i;
        next_bank_q <= '0;
      end else if (capture) begin
        left_q      <= left_q - 1'b1;
        next_bank_q <= (TableBanks > 1) ? next_bank_q + 1'b1 : '0;
      end
      prep_q <= capture;
      if (prep_q) writing_q <= 1'b1;
      else if (last_write) writing_q <= 1'b0;
    end
  end

  always_ff @(posedge clk_i) begin
    if (capture) begin
      bank_q <= next_bank_q;
      act_q  <= act_data_i;
      sel_q  <= 3'b001;  // prep: + a0
      neg_q  <= 1'b0;
    end else if (prep_q || writing_q) begin
      step_q  <= next_step;
      entry_q <= EntrySeq[5*next_step +: 5];
      sel_q   <= (next_op[1:0] == 2'd0) ? 3'b001 : (next_op[1:0] == 2'd1) ? 3'b010 : 3'b100;
      neg_q   <= next_op[2];
    end
  end

  for (genvar t = 0; t < Tables; t++) begin : g_table
    logic [ActBits-1:0]   a_sel;
    logic [EntryBits-1:0] value_q, addend;
    assign a_sel = (act_q[ActBits*(3*t)     +: ActBits] & {ActBits{sel_q[0]}})
                 | (act_q[ActBits*(3*t + 1) +: ActBits] & {ActBits{sel_q[1]}})
                 | (act_q[ActBits*(3*t + 2) +: ActBits] & {ActBits{sel_q[2]}});
    // +-a as a two's-complement add: value + (a ^ neg) + neg.
    assign addend = {{(EntryBits - ActBits){a_sel[ActBits-1]}}, a_sel} ^ {EntryBits{neg_q}};
    always_ff @(posedge clk_i) begin
      if (capture) value_q <= '0;
      else if (prep_q || writing_q) value_q <= value_q + addend + {{(EntryBits - 1){1'b0}}, neg_q};
    end
`ifndef SYNTHESIS
    // Fault injection, simulation only: +tlmm_fault_entry=K flips bit 0 of entry K of table 0, so
    // a test can show that a corrupted table entry is caught (test/rtl/conformance.test.ts).
    if (t == 0) begin : g_fault
      logic fault;
      assign fault = (fault_entry == int'(entry_q));
      assign wdata_o[EntryBits*t +: EntryBits] = value_q ^ {{(EntryBits - 1){1'b0}}, fault};
    end else begin : g_plain
      assign wdata_o[EntryBits*t +: EntryBits] = value_q;
    end
`else
    assign wdata_o[EntryBits*t +: EntryBits] = value_q;
`endif
  end

`ifndef SYNTHESIS
  int fault_entry;
  initial begin
    if (!$value$plusargs("tlmm_fault_entry=%d", fault_entry)) fault_entry = -1;
  end
`endif
endmodule
