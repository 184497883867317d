// strumgen co-simulation harness: one generic driver for every generated array.
//
// It replays a binary stimulus stream (stdin or --in FILE) through the Verilated model
// `Vdut` (the `<name>_array` top inside the input-register wrapper) and writes every captured tile (out_valid) to stdout
// or --out FILE. Formats (all little-endian 32-bit words; docs/SIMULATION.md):
//   stimulus header: MAGIC, VERSION, rows, actWords, wgtWords, outWords, drainCycles, 0
//   per cycle:       ctl (bit0 valid, bit1 clear, bit2 last, bits 8..31 in_meta: the layer metadata),
//                    actWords words of the in_act port image, wgtWords of in_wgt
//   per output:      stimulus cycle index, then rows x outWords words of out_data (row 0 first)
// The stream ends at EOF; the harness then runs drainCycles idle cycles and prints one
// summary line to stderr: "strumsim cycles=C outputs=O eval_ns=N cpu_us=U" (eval_ns: wall time
// in the clock loop; cpu_us: the process's CPU time).
// Compile-time options: STRUM_TRACE (waveforms, --waves/--from/--to), STRUM_HAS_META
// (the wrapper has in_meta: the format's layer metadata ports, concatenated).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/resource.h>
#include <memory>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "Vdut.h"
#include "verilated.h"
#ifdef STRUM_TRACE
#ifdef STRUM_TRACE_VCD
#include "verilated_vcd_c.h"
typedef VerilatedVcdC TraceFile;
#else
#include "verilated_fst_c.h"
typedef VerilatedFstC TraceFile;
#endif
#endif

static const uint32_t MAGIC = 0x4d525453;  // "STRM"
// The model's top is the input-register wrapper (sim/wrapper.v.hbs): the array
// sees stimulus cycle n at harness cycle n + 1, so outputs are numbered by stimulus cycle.
static const uint64_t INPUT_DELAY = 1;
static const uint32_t VERSION = 1;

// Port access for every Verilator port type: packed words are LSB first, as in VlWide.
template <std::size_t N>
static void setPort(VlWide<N>& p, const uint32_t* w) {
    std::memcpy(p.data(), w, N * sizeof(uint32_t));
}
static void setPort(QData& p, const uint32_t* w) { p = (QData)w[0] | ((QData)w[1] << 32); }
static void setPort(IData& p, const uint32_t* w) { p = w[0]; }
static void setPort(SData& p, const uint32_t* w) { p = (SData)w[0]; }
static void setPort(CData& p, const uint32_t* w) { p = (CData)w[0]; }
template <std::size_t N>
static void getPort(const VlWide<N>& p, uint32_t* w) {
    std::memcpy(w, p.data(), N * sizeof(uint32_t));
}
static void getPort(QData p, uint32_t* w) {
    w[0] = (uint32_t)p;
    w[1] = (uint32_t)(p >> 32);
}
static void getPort(IData p, uint32_t* w) { w[0] = p; }
static void getPort(SData p, uint32_t* w) { w[0] = p; }
static void getPort(CData p, uint32_t* w) { w[0] = p; }

template <typename T>
struct PortWords {
    static const std::size_t value = sizeof(T) <= 4 ? 1 : sizeof(T) / 4;
};
#define PORT_WORDS(port) (PortWords<std::remove_reference<decltype(port)>::type>::value)

[[noreturn]] static void die(const std::string& msg) {
    std::fprintf(stderr, "strumsim: %s\n", msg.c_str());
    std::exit(2);
}

// Reads exactly n bytes unless EOF comes first; returns the bytes read.
static std::size_t readFull(int fd, void* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, (char*)buf + got, n - got);
        if (r == 0) break;
        if (r < 0) {
            if (errno == EINTR) continue;
            die(std::string("read failed: ") + std::strerror(errno));
        }
        got += (std::size_t)r;
    }
    return got;
}

static void writeFull(int fd, const void* buf, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        ssize_t w = ::write(fd, (const char*)buf + done, n - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            die(std::string("write failed: ") + std::strerror(errno));
        }
        done += (std::size_t)w;
    }
}

static uint64_t nowNs() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char** argv) {
    const char* inPath = nullptr;
    const char* outPath = nullptr;
    const char* wavesPath = nullptr;
    uint64_t traceFrom = 0, traceTo = UINT64_MAX;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--in") inPath = next();
        else if (a == "--out") outPath = next();
        else if (a == "--waves") wavesPath = next();
        else if (a == "--from") traceFrom = std::strtoull(next(), nullptr, 10);
        else if (a == "--to") traceTo = std::strtoull(next(), nullptr, 10);
        else die("unknown argument " + a);
    }
    int inFd = 0, outFd = 1;
    if (inPath && (inFd = ::open(inPath, O_RDONLY)) < 0) die(std::string("cannot open ") + inPath);
    if (outPath && (outFd = ::open(outPath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) die(std::string("cannot open ") + outPath);

    const std::unique_ptr<VerilatedContext> ctx{new VerilatedContext};
    ctx->commandArgs(argc, argv);
#ifdef STRUM_TRACE
    ctx->traceEverOn(true);
#endif
    const std::unique_ptr<Vdut> top{new Vdut{ctx.get()}};

    uint32_t header[8];
    if (readFull(inFd, header, sizeof header) != sizeof header) die("stimulus header is truncated");
    if (header[0] != MAGIC || header[1] != VERSION) die("stimulus is not a strumgen v1 stream");
    const uint32_t rows = header[2], actWords = header[3], wgtWords = header[4], outWords = header[5];
    const uint32_t drain = header[6];
    if (actWords != PORT_WORDS(top->in_act) || wgtWords != PORT_WORDS(top->in_wgt) ||
        outWords != PORT_WORDS(top->out_data) || rows == 0) {
        std::fprintf(stderr,
                     "strumsim: stimulus geometry (rows %u, act %u, wgt %u, out %u words) does not match the "
                     "model (act %zu, wgt %zu, out %zu words)\n",
                     rows, actWords, wgtWords, outWords, PORT_WORDS(top->in_act), PORT_WORDS(top->in_wgt),
                     PORT_WORDS(top->out_data));
        return 2;
    }

#ifdef STRUM_TRACE
    std::unique_ptr<TraceFile> tfp;
    if (wavesPath) {
        tfp.reset(new TraceFile);
        top->trace(tfp.get(), 99);
        tfp->open(wavesPath);
    }
#else
    if (wavesPath) die("this model was built without tracing");
#endif
    uint64_t cycle = 0;  // stimulus cycle index; reset cycles come before cycle 0
    auto dump = [&](uint64_t t) {
#ifdef STRUM_TRACE
        if (tfp && cycle >= traceFrom && cycle <= traceTo) tfp->dump(t);
#else
        (void)t;
#endif
    };

    const std::size_t recWords = 1 + actWords + wgtWords;
    const std::size_t outRec = 1 + (std::size_t)rows * outWords;
    const std::size_t chunk = 4096;
    std::vector<uint32_t> in(chunk * recWords);
    std::vector<uint32_t> zero(recWords, 0);  // an idle cycle
    std::vector<uint32_t> out;
    out.reserve(chunk * outRec);
    uint64_t outputs = 0, evalNs = 0;
    uint32_t lastCtl = 0;

    // One clock cycle with the inputs of record r: drive on the low phase, sample on the rising edge,
    // then read every result row when out_valid says a tile was just captured.
    auto step = [&](const uint32_t* r) {
        lastCtl = r[0];
        top->clk = 0;
        top->in_valid = r[0] & 1;
        top->in_clear = (r[0] >> 1) & 1;
        top->in_last = (r[0] >> 2) & 1;
#ifdef STRUM_HAS_META
        top->in_meta = r[0] >> 8;
#endif
        setPort(top->in_act, r + 1);
        setPort(top->in_wgt, r + 1 + actWords);
        top->eval();
        dump(2 * cycle + 20);
        top->clk = 1;
        top->eval();
        dump(2 * cycle + 21);
        if (top->out_valid) {
            std::size_t at = out.size();
            out.resize(at + outRec);
            out[at] = (uint32_t)(cycle - INPUT_DELAY);
            for (uint32_t row = 0; row < rows; row++) {
                top->out_row = row;
                top->eval();
                getPort(top->out_data, &out[at + 1 + (std::size_t)row * outWords]);
            }
            outputs++;
        }
        cycle++;
    };

    // Synchronous reset for a few cycles (not numbered), inputs idle.
    top->rst = 1;
    for (int i = 0; i < 4; i++) {
        top->clk = 0;
        setPort(top->in_act, zero.data() + 1);
        setPort(top->in_wgt, zero.data() + 1);
        top->in_valid = 0;
        top->eval();
        top->clk = 1;
        top->eval();
    }
    top->rst = 0;

    bool more = true;
    while (more) {
        std::size_t got = readFull(inFd, in.data(), in.size() * sizeof(uint32_t));
        if (got % (recWords * sizeof(uint32_t))) die("stimulus ends inside a cycle record");
        std::size_t n = got / (recWords * sizeof(uint32_t));
        more = n == chunk;
        uint64_t t0 = nowNs();
        for (std::size_t i = 0; i < n; i++) {
            step(&in[i * recWords]);
            if (cycle > traceTo) break;
        }
        if (!more || cycle > traceTo) {
            // Drain with idle cycles that keep the layer metadata (a layer constant).
            zero[0] = lastCtl & 0xffffff00u;
            for (uint32_t i = 0; i < drain; i++) step(zero.data());
            more = false;
        }
        evalNs += nowNs() - t0;
        if (!out.empty()) writeFull(outFd, out.data(), out.size() * sizeof(uint32_t));
        out.clear();
    }
    top->final();
#ifdef STRUM_TRACE
    if (tfp) tfp->close();
#endif
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const unsigned long long cpuUs = (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
                                     (unsigned long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    std::fprintf(stderr, "strumsim cycles=%llu outputs=%llu eval_ns=%llu cpu_us=%llu\n", (unsigned long long)cycle,
                 (unsigned long long)outputs, (unsigned long long)evalNs, cpuUs);
    return 0;
}
