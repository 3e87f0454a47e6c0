// tlmm_engine as a Vitis HLS RTL blackbox (hw/gen/<board>/tlmm_engine_hls.json describes it to
// Vitis; the HLS C++ model of the same function has exactly these ports). One call (ap_ctrl_chain)
// loads one weight tile and/or computes one tile x tokens:
//
//   void tlmm_engine_hls(bool load_en, ap_uint<1> load_buf, ap_uint<R> load_rows, ap_uint<C> load_chunks,
//                        hls::stream<ap_uint<BEAT_BITS>> &w,
//                        bool compute_en, ap_uint<1> cmd_buf, ap_uint<Kb> k, ap_uint<R> rows, ap_uint<Tb> tokens,
//                        hls::stream<ap_uint<3*T*8>> &act, hls::stream<ap_uint<Q*ACC_BITS>> &acc,
//                        ap_uint<32> &cycles, ap_uint<2> &status);
//
// With two buffer halves the HLS top calls it with compute_en for tile k (half k mod 2) and load_en
// for tile k+1 (the other half), so the load overlaps the compute (docs/layout.md §2.3). status bit 0:
// the load was refused (out of range), bit 1: the compute was refused. cycles: the compute's core
// cycles. Streams use Vitis' FIFO protocol (dout / empty_n / read, din / full_n / write); reset is
// Vitis' active-high ap_rst. There is no clock enable (module_clock_enable is left empty).
module tlmm_engine_hls #(
  localparam int unsigned Buffers = tellme_hw_pkg::Buffers,
  localparam int unsigned BufBits = (Buffers > 1) ? $clog2(Buffers) : 1,
  localparam int unsigned RowBits = $clog2(tellme_hw_pkg::MaxTileRows + 1),
  localparam int unsigned ChunkBits = $clog2(tellme_hw_pkg::MaxChunks + 1),
  localparam int unsigned KBits = $clog2(tellme_hw_pkg::KMaxPadded + 1),
  localparam int unsigned TokBits = $clog2(tellme_hw_pkg::MaxTokens + 1),
  localparam int unsigned BeatBits = tellme_hw_pkg::BeatBits,
  localparam int unsigned ActWidth = tellme_hw_pkg::ChunkElements * tellme_hw_pkg::ActivationBits,
  localparam int unsigned OutWidth = tellme_hw_pkg::ParallelVectors * tellme_hw_pkg::AccumulatorBits
) (
  input  logic                  ap_clk,
  input  logic                  ap_rst,
  input  logic                  ap_start,
  output logic                  ap_ready,
  output logic                  ap_done,
  input  logic                  ap_continue,
  output logic                  ap_idle,
  input  logic                  load_en,
  input  logic [BufBits-1:0]    load_buf,
  input  logic [RowBits-1:0]    load_rows,
  input  logic [ChunkBits-1:0]  load_chunks,
  input  logic [BeatBits-1:0]   w_dout,
  input  logic                  w_empty_n,
  output logic                  w_read,
  input  logic                  compute_en,
  input  logic [BufBits-1:0]    cmd_buf,
  input  logic [KBits-1:0]      k,
  input  logic [RowBits-1:0]    rows,
  input  logic [TokBits-1:0]    tokens,
  input  logic [ActWidth-1:0]   act_dout,
  input  logic                  act_empty_n,
  output logic                  act_read,
  output logic [OutWidth-1:0]   acc_din,
  input  logic                  acc_full_n,
  output logic                  acc_write,
  output logic [31:0]           cycles,
  output logic                  cycles_ap_vld,
  output logic [1:0]            status,
  output logic                  status_ap_vld
);

  typedef enum logic [1:0] {IDLE, BUSY, DONE} state_e;
  state_e state_q;
  logic load_pending_q, load_wait_q, cmd_pending_q, cmd_wait_q;
  logic load_error_q, cmd_error_q;
  logic [BufBits-1:0] load_buf_q, cmd_buf_q;
  logic [RowBits-1:0] load_rows_q, rows_q;
  logic [ChunkBits-1:0] load_chunks_q;
  logic [KBits-1:0] k_q;
  logic [TokBits-1:0] tokens_q;
  logic [31:0] cycles_q;

  logic load_ready, load_done, load_error, cmd_ready, cmd_done, cmd_error;
  logic [31:0] cmd_cycles;
  logic w_tready, act_tready, acc_tvalid;

  tlmm_engine u_engine (
    .ap_clk, .ap_rst_n(!ap_rst),
    .load_valid_i(load_pending_q), .load_ready_o(load_ready),
    .load_buf_i(load_buf_q), .load_rows_i(load_rows_q), .load_chunks_i(load_chunks_q),
    .load_done_o(load_done), .load_error_o(load_error),
    .s_axis_w_tdata(w_dout), .s_axis_w_tvalid(w_empty_n), .s_axis_w_tready(w_tready),
    .cmd_valid_i(cmd_pending_q), .cmd_ready_o(cmd_ready),
    .cmd_buf_i(cmd_buf_q), .cmd_k_i(k_q), .cmd_rows_i(rows_q), .cmd_tokens_i(tokens_q),
    .cmd_done_o(cmd_done), .cmd_error_o(cmd_error), .cmd_cycles_o(cmd_cycles),
    .s_axis_act_tdata(act_dout), .s_axis_act_tvalid(act_empty_n), .s_axis_act_tready(act_tready),
    .m_axis_acc_tdata(acc_din), .m_axis_acc_tvalid(acc_tvalid), .m_axis_acc_tready(acc_full_n),
    .m_axis_acc_tlast()
  );
  assign w_read    = w_empty_n && w_tready;
  assign act_read  = act_empty_n && act_tready;
  assign acc_write = acc_tvalid && acc_full_n;

  assign ap_idle       = (state_q == IDLE);
  assign ap_ready      = (state_q == IDLE) && ap_start;   // the scalars are taken in this cycle
  assign ap_done       = (state_q == DONE);
  assign cycles        = cycles_q;
  assign cycles_ap_vld = ap_done;
  assign status        = {cmd_error_q, load_error_q};
  assign status_ap_vld = ap_done;

  always_ff @(posedge ap_clk) begin
    if (ap_rst) begin
      state_q        <= IDLE;
      load_pending_q <= 1'b0;
      load_wait_q    <= 1'b0;
      cmd_pending_q  <= 1'b0;
      cmd_wait_q     <= 1'b0;
    end else begin
      unique case (state_q)
        IDLE: begin
          if (ap_start) begin
            state_q        <= BUSY;
            load_pending_q <= load_en;
            load_wait_q    <= load_en;
            cmd_pending_q  <= compute_en;
            cmd_wait_q     <= compute_en;
          end
        end
        BUSY: begin
          if (load_pending_q && load_ready) load_pending_q <= 1'b0;
          if (cmd_pending_q && cmd_ready) cmd_pending_q <= 1'b0;
          if (load_done) load_wait_q <= 1'b0;
          if (cmd_done) cmd_wait_q <= 1'b0;
          if ((!load_wait_q || load_done) && (!cmd_wait_q || cmd_done)) state_q <= DONE;
        end
        DONE: if (ap_continue) state_q <= IDLE;
        default: state_q <= IDLE;
      endcase
    end
  end

  always_ff @(posedge ap_clk) begin
    if (state_q == IDLE && ap_start) begin
      load_buf_q    <= load_buf;
      load_rows_q   <= load_rows;
      load_chunks_q <= load_chunks;
      cmd_buf_q     <= cmd_buf;
      k_q           <= k;
      rows_q        <= rows;
      tokens_q      <= tokens;
      load_error_q  <= 1'b0;
      cmd_error_q   <= 1'b0;
      cycles_q      <= '0;
    end else begin
      if (load_done) load_error_q <= load_error;
      if (cmd_done) begin
        cmd_error_q <= cmd_error;
        cycles_q    <= cmd_cycles;
      end
    end
  end
endmodule
