// Weight loader for dense beats (docs/layout.md §3.2): turns a tile's beat stream (index vectors
// of VecBits back to back, chunk-major, rows inner, zero-filled to a whole beat) into weight-buffer
// writes in the URAM layout of docs/layout.md §2 (row z of chunk c at bank z mod Banks, word
// c*ceil(rows/Banks) + z div Banks of the buffer half).
//
// Each cycle it writes up to WrVecs vectors of one aligned group of rows z .. z+WrVecs-1 of one
// chunk (z a multiple of WrVecs): they go to WrVecs consecutive banks at the same word, so slot i
// always feeds bank (group * WrVecs + i) and the buffer needs no crossbar. WrVecs * VecBits must
// exceed BeatBits so the loader keeps up with one beat per cycle (4 x 140 > 512 on the KV260).
// Only the extraction is a shifter: a window of three beats read at a Gran-bit offset (Gran =
// gcd(VecBits, BeatBits), 4 bits here).
//
// The loader never takes a beat the tile does not need (it accepts one only while the window holds
// fewer bits than the vectors still to write), so back-to-back tiles in one stream stay aligned.
module tlmm_weight_writer #(
  parameter int unsigned BeatBits = 512,
  parameter int unsigned VecBits = 140,
  parameter int unsigned Banks = 8,
  parameter int unsigned WrVecs = 4,
  parameter int unsigned WordsPerBuffer = 4096,
  parameter int unsigned Buffers = 2,
  parameter int unsigned MaxRows = 8640,
  parameter int unsigned MaxChunks = 103,
  parameter int unsigned BankDivMul = 1,         // ceil(rows / Banks), see tlmm_div_const
  parameter int unsigned BankDivShift = 3,
  localparam int unsigned RowBits = $clog2(MaxRows + 1),
  localparam int unsigned ChunkBits = $clog2(MaxChunks + 1),
  localparam int unsigned BufBits = (Buffers > 1) ? $clog2(Buffers) : 1,
  localparam int unsigned WordBits = $clog2(WordsPerBuffer),
  localparam int unsigned Groups = Banks / WrVecs,
  localparam int unsigned GroupBits = (Groups > 1) ? $clog2(Groups) : 1
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  // Command: load one tile of rows x chunks vectors into buffer half `buf`.
  input  logic                      cmd_valid_i,
  output logic                      cmd_ready_o,
  input  logic [BufBits-1:0]        cmd_buf_i,
  input  logic [RowBits-1:0]        cmd_rows_i,
  input  logic [ChunkBits-1:0]      cmd_chunks_i,
  output logic                      busy_o,
  output logic [BufBits-1:0]        busy_buf_o,   // the half being loaded (valid with busy_o)
  output logic                      done_o,       // pulse: the tile is written (or was refused)
  output logic                      error_o,      // with done_o: out of range, nothing written
  // Beats.
  input  logic                      beat_valid_i,
  output logic                      beat_ready_o,
  input  logic [BeatBits-1:0]       beat_data_i,
  // Weight-buffer write port.
  output logic                      wr_en_o,
  output logic [BufBits-1:0]        wr_buf_o,
  output logic [WordBits-1:0]       wr_addr_o,
  output logic [GroupBits-1:0]      wr_group_o,   // banks wr_group*WrVecs .. +WrVecs-1
  output logic [WrVecs-1:0]         wr_mask_o,    // slots written
  output logic [WrVecs*VecBits-1:0] wr_vec_o      // slot i at [VecBits*i +: VecBits]
);
  function automatic int gcd(input int a, input int b);
    int x, y, r;
    x = a;
    y = b;
    while (y != 0) begin
      r = x % y;
      x = y;
      y = r;
    end
    gcd = x;
  endfunction

  localparam int unsigned Gran = gcd(VecBits, BeatBits);  // bits per offset unit
  localparam int unsigned BeatUnits = BeatBits / Gran;
  localparam int unsigned VecUnits = VecBits / Gran;
  localparam int unsigned OffBits = $clog2(BeatUnits);     // window offset p < BeatUnits
  localparam int unsigned QuadBits = WrVecs * VecBits;
  localparam int unsigned WinBits = 3 * BeatBits;
  localparam int unsigned PadBits = (QuadBits + BeatBits > WinBits) ? QuadBits + BeatBits - WinBits : 0;
  localparam int unsigned TotalBits = RowBits + ChunkBits + $clog2(VecUnits + 1);  // units of a tile
  localparam int unsigned KBits = $clog2(WrVecs + 1);

  if (Banks % WrVecs != 0) begin : g_check_groups
    $error("tlmm_weight_writer: WrVecs = %0d must divide Banks = %0d", WrVecs, Banks);
  end
  if (QuadBits < BeatBits || QuadBits >= 2 * BeatBits) begin : g_check_rate
    $error("tlmm_weight_writer: WrVecs * VecBits = %0d must be in [BeatBits, 2*BeatBits) = [%0d, %0d)", QuadBits, BeatBits, 2 * BeatBits);
  end

  typedef enum logic [1:0] {IDLE, SETUP, CHECK, RUN} state_e;
  state_e state_q;

  logic [BufBits-1:0]     buf_q;
  logic [RowBits-1:0]     rows_q;
  logic [ChunkBits-1:0]   chunks_q;
  logic [WordBits:0]      rpb_q, rpb_d;
  logic [RowBits+ChunkBits-1:0] vecs_q;
  logic [TotalBits-1:0]   units_left_q;   // vector bits (in units) still to write

  tlmm_div_const #(.InBits(RowBits + 1), .OutBits(WordBits + 1), .Mul(BankDivMul), .Shift(BankDivShift)) u_div_rpb (
    .x_i((RowBits + 1)'(rows_q) + (RowBits + 1)'(Banks - 1)), .q_o(rpb_d));

  logic [ChunkBits+WordBits+1:0] words_needed;
  assign words_needed = (ChunkBits + WordBits + 2)'(chunks_q) * (ChunkBits + WordBits + 2)'(rpb_q);

  logic shape_ok;
  assign shape_ok = (rows_q != '0) && (rows_q <= RowBits'(MaxRows)) && (chunks_q != '0) && (chunks_q <= ChunkBits'(MaxChunks))
                 && (words_needed <= (ChunkBits + WordBits + 2)'(WordsPerBuffer)) && (32'(buf_q) < Buffers);

  // Position of the next group of rows.
  logic [RowBits-1:0]   z_q;
  logic [GroupBits-1:0] group_q;
  logic [WordBits:0]    zword_q;      // z div Banks
  logic [WordBits:0]    cword_q;      // chunk * rpb
  logic [ChunkBits-1:0] chunk_q;

  // Beat window: nb_q beats in win_q (oldest at [0 +: BeatBits]), the next vector at unit off_q.
  logic [WinBits-1:0]  win_q;
  logic [1:0]          nb_q;
  logic [OffBits-1:0]  off_q;

  logic [KBits-1:0]    quad_vecs;     // vectors in this group: min(WrVecs, rows - z)
  logic [OffBits+2:0]  win_units, need_units, off_raw;
  logic                write, last_group, last_of_tile;
  logic [1:0]          pops;
  logic                accept;

  assign quad_vecs  = (rows_q - z_q >= RowBits'(WrVecs)) ? KBits'(WrVecs) : KBits'(rows_q - z_q);
  assign need_units = (OffBits + 3)'(quad_vecs) * (OffBits + 3)'(VecUnits);
  assign win_units  = (OffBits + 3)'(nb_q) * (OffBits + 3)'(BeatUnits) - (OffBits + 3)'(off_q);
  assign write      = (state_q == RUN) && (win_units >= need_units);
  assign last_group = (32'(z_q) + WrVecs >= 32'(rows_q));
  assign last_of_tile = write && last_group && (chunk_q == chunks_q - 1'b1);
  assign off_raw    = (OffBits + 3)'(off_q) + (write ? need_units : '0);
  assign pops       = (off_raw >= (OffBits + 3)'(2 * BeatUnits)) ? 2'd2 : (off_raw >= (OffBits + 3)'(BeatUnits)) ? 2'd1 : 2'd0;

  // Take a beat while the window holds fewer bits than the tile still needs and a slot is free.
  assign beat_ready_o = (state_q == RUN) && ((TotalBits + 1)'(win_units) < (TotalBits + 1)'(units_left_q))
                     && (nb_q - pops < 2'd3);
  assign accept = beat_valid_i && beat_ready_o;

  // Extraction: QuadBits bits at unit offset off_q of the window.
  logic [WinBits+PadBits-1:0] win_padded;
  logic [QuadBits-1:0]        quad;
  assign win_padded = (WinBits + PadBits)'(win_q);
  assign quad = win_padded[Gran*off_q +: QuadBits];

  assign cmd_ready_o = (state_q == IDLE);
  assign busy_o      = (state_q != IDLE);
  assign busy_buf_o  = buf_q;
  assign wr_en_o     = write;
  assign wr_buf_o    = buf_q;
  assign wr_addr_o   = WordBits'(cword_q + zword_q);
  assign wr_group_o  = group_q;
  assign wr_vec_o    = quad;
  for (genvar i = 0; i < WrVecs; i++) begin : g_mask
    assign wr_mask_o[i] = (KBits'(i) < quad_vecs);
  end

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q <= IDLE;
      done_o  <= 1'b0;
      error_o <= 1'b0;
      nb_q    <= '0;
      off_q   <= '0;
    end else begin
      done_o  <= 1'b0;
      error_o <= 1'b0;
      unique case (state_q)
        IDLE:  if (cmd_valid_i) state_q <= SETUP;
        SETUP: state_q <= CHECK;
        CHECK: begin
          if (shape_ok) begin
            state_q <= RUN;
          end else begin
            state_q <= IDLE;
            done_o  <= 1'b1;
            error_o <= 1'b1;
          end
        end
        RUN: begin
          if (last_of_tile) begin
            // The rest of the window is the last beat's zero fill.
            state_q <= IDLE;
            done_o  <= 1'b1;
          end
        end
        default: state_q <= IDLE;
      endcase
      if (state_q == RUN) begin
        if (last_of_tile) begin
          nb_q  <= '0;
          off_q <= '0;
        end else begin
          nb_q  <= nb_q - pops + {1'b0, accept};
          off_q <= OffBits'(off_raw - (OffBits + 3)'(pops) * (OffBits + 3)'(BeatUnits));
        end
      end
    end
  end

  // Window contents: drop the popped beats, append the accepted one.
  for (genvar i = 0; i < 3; i++) begin : g_win
    always_ff @(posedge clk_i) begin
      if (state_q == RUN) begin
        if (32'(i) + 32'(pops) < 32'(nb_q)) begin
          win_q[BeatBits*i +: BeatBits] <= win_q[BeatBits*(32'(i) + 32'(pops)) +: BeatBits];
        end else if (accept) begin
          win_q[BeatBits*i +: BeatBits] <= beat_data_i;
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (state_q == IDLE) begin
      buf_q    <= cmd_buf_i;
      rows_q   <= cmd_rows_i;
      chunks_q <= cmd_chunks_i;
    end
    if (state_q == SETUP) begin
      rpb_q  <= rpb_d;
      vecs_q <= (RowBits + ChunkBits)'(rows_q) * (RowBits + ChunkBits)'(chunks_q);
    end
    if (state_q == CHECK) begin
      units_left_q <= TotalBits'(vecs_q) * TotalBits'(VecUnits);
      z_q     <= '0;
      group_q <= '0;
      zword_q <= '0;
      cword_q <= '0;
      chunk_q <= '0;
    end else if (write) begin
      units_left_q <= units_left_q - TotalBits'(need_units);
      if (last_group) begin
        z_q     <= '0;
        group_q <= '0;
        zword_q <= '0;
        cword_q <= cword_q + rpb_q;
        chunk_q <= chunk_q + 1'b1;
      end else begin
        z_q <= z_q + RowBits'(WrVecs);
        if (32'(group_q) == Groups - 1) begin
          group_q <= '0;
          zword_q <= zword_q + 1'b1;
        end else begin
          group_q <= group_q + 1'b1;
        end
      end
    end
  end
endmodule
