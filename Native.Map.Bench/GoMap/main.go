// Command gomap is the demo's third contestant: Go's own map[int64]int64, measured the way the
// demo's .NET child processes measure NativeMap and Dictionary (Native.Map.Bench/Demo/DemoChild.cs),
// so that the three can stand side by side in one run.
//
// The demo builds it with the Go tool it is given (`demo --go`) and starts one process per mode and
// round, as it does for the two .NET maps:
//
//	gomap --mode throughput|latency|presized --n N --round R --phase-ms MS
//
// It writes one JSON document to stdout with the field names of the demo's ChildResult, and
// progress lines to stderr. The keys are the demo's: splitmix64 from the same seed, misses the next
// N outputs of the same stream, lookups and removals in the same Fisher–Yates order. KeyDigest lets
// the demo check that; it refuses a run whose contestants did not see the same keys.
//
// The map is made without a size hint and grows as a Go program's would, under the default GC
// settings (GOGC=100); the presized mode makes it with make(map[int64]int64, N). Go 1.19–1.23 maps are the bucket design NativeMap ports (Go 1.24 replaced it
// with Swiss tables); on those versions the child also reads the map's B and overflow count from
// its header for the demo's "shape" line.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// The demo's key streams (Native.Map.Bench/Common/Keys.cs).
const (
	keySeed     uint64 = 0x5EED_0000_2024_0003
	shuffleSeed uint64 = 0x5EED_0000_5A0F_F1E5
	golden      uint64 = 0x9E3779B97F4A7C15
)

// Whole passes of a lookup, iterate or remove phase repeat until the phase has run this long, or
// maxPasses passes (DemoChild.s_minPhaseTicks and MaxPasses).
const maxPasses = 200

// Inserts slower than this are kept one by one for the plot, at most maxOutliers of them; the rest
// of the plot is the median and maximum of each of plotBlocks blocks (DemoChild.DownSample).
const (
	outlierThresholdNs = 20_000
	maxOutliers        = 20_000
	plotBlocks         = 2_000
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

func splitMix64(state *uint64) uint64 {
	*state += golden
	z := *state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func stream(count int, skip int64) []int64 {
	keys := make([]int64, count)
	state := keySeed + uint64(skip)*golden
	for i := range keys {
		keys[i] = int64(splitMix64(&state))
	}
	return keys
}

func shuffled(keys []int64, seed uint64) []int64 {
	c := append([]int64(nil), keys...)
	state := seed
	for i := len(c) - 1; i > 0; i-- {
		j := int(splitMix64(&state) % uint64(i+1))
		c[i], c[j] = c[j], c[i]
	}
	return c
}

// keyDigest is Keys.Digest: FNV-1a over 64-bit words, over every key array in order.
func keyDigest(arrays ...[]int64) uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, a := range arrays {
		for _, k := range a {
			h = (h ^ uint64(k)) * 0x100000001b3
		}
	}
	return h
}

type latencySummary struct {
	Count, P50Ns, P90Ns, P99Ns, P999Ns, P9999Ns, MaxNs, MaxIndex, Over10Us, Over1Ms int64
	MeanNs, TimerOverheadNs                                                         float64
}

type plotSeries struct {
	BlockSize          int
	BlockStart         []int64
	BlockMedianNs      []int64
	BlockMaxIndex      []int64
	BlockMaxNs         []int64
	OutlierThresholdNs int64
	OutlierIndex       []int64
	OutlierNs          []int64
}

// childResult carries the fields of the demo's ChildResult that a Go map has.
type childResult struct {
	Map, Mode, Shape                                   string
	N, Round, WarmupRounds                             int
	LoadAverage, BuildMs, InsertNsPerOp, GcPauseMs     float64
	InsertPresizedNsPerOp                              float64
	GcCycles                                           *int
	ManagedAllocatedBytes, ManagedLiveBytes            int64
	MinorPageFaults, NativeBytes, NativeLiveBytesDelta int64
	RssBeforeBuildBytes, PeakRssBytes                  int64
	PeakRssIsBuildOnly                                 bool
	LookupHitNs, LookupMissNs, IterateNs, RemoveNs     float64
	LookupHitPasses, LookupMissPasses, IteratePasses   int
	RemovePasses                                       int
	KeyDigest                                          uint64
	Latency                                            *latencySummary `json:",omitempty"`
	Plot                                               *plotSeries     `json:",omitempty"`
}

var minPhaseNs int64 = 250_000_000

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	mode := flag.String("mode", "throughput", "throughput, latency or presized")
	n := flag.Int("n", 0, "entries")
	round := flag.Int("round", 0, "round number (reported only)")
	phaseMs := flag.Int64("phase-ms", 250, "minimum time of each lookup, iterate and remove phase")
	flag.Parse()
	if *n <= 0 || (*mode != "throughput" && *mode != "latency" && *mode != "presized") {
		fmt.Fprintln(os.Stderr, "gomap: need --mode throughput|latency|presized and --n > 0")
		os.Exit(2)
	}
	minPhaseNs = *phaseMs * 1_000_000
	result := measure(*mode, *n, *round)
	out, err := json.Marshal(result)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(out)
}

func measure(mode string, n, round int) childResult {
	label := fmt.Sprintf("[GoMap %s r%d]", mode, round)
	progress("%s keys: %d splitmix64 (seed 0x%X), misses, shuffled order; %s", label, n, keySeed, runtime.Version())
	keys := stream(n, 0)
	if mode == "presized" {
		return childResult{
			Map: "GoMap", Mode: mode, N: n, Round: round, KeyDigest: keyDigest(keys), LoadAverage: loadAverage(),
			InsertPresizedNsPerOp: measurePresized(keys, label),
		}
	}
	var misses, order, latencies []int64
	digest := keyDigest(keys)
	if mode == "throughput" {
		misses = stream(n, int64(n))
		order = shuffled(keys, shuffleSeed)
		digest = keyDigest(keys, misses, order)
	} else {
		latencies = make([]int64, n)
	}
	timerOverhead := 0.0
	if mode == "latency" {
		timerOverhead = timerOverheadNs()
	}

	// Baseline: everything allocated so far collected, peak RSS reset (as the .NET children do).
	runtime.GC()
	debug.FreeOSMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rssBefore := statusBytes("VmRSS:")
	peakReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	load := loadAverage()
	faults := minorFaults()

	m := make(map[int64]int64)
	var buildNs int64
	if mode == "throughput" {
		buildNs = build(m, keys, label)
	} else {
		buildNs = buildTimed(m, keys, latencies, label)
	}

	runtime.ReadMemStats(&after)
	peak := statusBytes("VmHWM:")
	faultsDuring := minorFaults() - faults
	cycles := int(after.NumGC - before.NumGC)
	pauseMs := float64(after.PauseTotalNs-before.PauseTotalNs) / 1e6
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	if len(m) != n {
		panic(fmt.Sprintf("%s built %d entries, expected %d", label, len(m), n))
	}
	shape := describe(m)
	progress("%s built in %.0f ms: %s", label, float64(buildNs)/1e6, shape)

	r := childResult{
		Map: "GoMap", Mode: mode, N: n, Round: round, Shape: shape, KeyDigest: digest,
		LoadAverage: load, BuildMs: float64(buildNs) / 1e6, InsertNsPerOp: float64(buildNs) / float64(n),
		GcCycles: &cycles, GcPauseMs: pauseMs,
		ManagedAllocatedBytes: allocated, ManagedLiveBytes: int64(live.HeapAlloc) - int64(before.HeapAlloc),
		MinorPageFaults: faultsDuring, RssBeforeBuildBytes: rssBefore, PeakRssBytes: peak, PeakRssIsBuildOnly: peakReset,
	}
	if mode == "throughput" {
		measureOperations(m, keys, misses, order, &r, label)
	} else {
		r.Latency = summarise(latencies, timerOverhead)
		r.Plot = downSample(latencies)
	}
	return r
}

// measureOperations: lookup hit, lookup miss, iterate, then remove (which empties the map), each over whole passes.
func measureOperations(m map[int64]int64, keys, misses, order []int64, r *childResult, label string) {
	progress("%s lookup hit (%d shuffled keys per pass)", label, len(order))
	r.LookupHitNs, r.LookupHitPasses = timeLookups(m, order, true, label)
	progress("%s lookup miss", label)
	r.LookupMissNs, r.LookupMissPasses = timeLookups(m, misses, false, label)

	progress("%s iterate", label)
	var iterNs int64
	passes := 0
	sum := int64(0)
	for {
		t0 := nanotime()
		sum += sumAll(m)
		iterNs += nanotime() - t0
		passes++
		if iterNs >= minPhaseNs || passes >= maxPasses {
			break
		}
	}
	r.IterateNs, r.IteratePasses = float64(iterNs)/(float64(passes)*float64(len(keys))), passes
	if sum == 42 {
		fmt.Fprintln(os.Stderr) // keeps the sum alive
	}

	progress("%s remove all (shuffled order)", label)
	var removeNs int64
	passes = 0
	for {
		t0 := nanotime()
		removeRange(m, order)
		removeNs += nanotime() - t0
		passes++
		if len(m) != 0 {
			panic(fmt.Sprintf("%s left %d entries after removing every key", label, len(m)))
		}
		if removeNs >= minPhaseNs || passes >= maxPasses {
			break
		}
		insertRange(m, keys, 0, len(keys)) // refill, untimed
	}
	r.RemoveNs, r.RemovePasses = float64(removeNs)/(float64(passes)*float64(len(keys))), passes
}

// measurePresized builds a map made with a size hint of N (the presized mode, DemoChild.MeasurePresized)
// in a process that has built nothing else; returns ns per insert.
func measurePresized(keys []int64, label string) float64 {
	runtime.GC()
	debug.FreeOSMemory()
	progress("%s insert presized (size hint %d)", label, len(keys))
	m := make(map[int64]int64, len(keys))
	ns := build(m, keys, label+" presized")
	if len(m) != len(keys) {
		panic(fmt.Sprintf("%s presized built %d entries, expected %d", label, len(m), len(keys)))
	}
	return float64(ns) / float64(len(keys))
}

func timeLookups(m map[int64]int64, probe []int64, expectFound bool, label string) (float64, int) {
	var ns int64
	passes := 0
	for {
		t0 := nanotime()
		found := lookupRange(m, probe)
		ns += nanotime() - t0
		passes++
		want := 0
		if expectFound {
			want = len(probe)
		}
		if found != want {
			panic(fmt.Sprintf("%s: %d of %d lookups found, expected %d", label, found, len(probe), want))
		}
		if ns >= minPhaseNs || passes >= maxPasses {
			return float64(ns) / (float64(passes) * float64(len(probe))), passes
		}
	}
}

//go:noinline
func insertRange(m map[int64]int64, keys []int64, start, end int) {
	for i := start; i < end; i++ {
		m[keys[i]] = int64(i)
	}
}

// insertRangeTimed inserts with one clock read per insert; each sample is the time since the previous read.
//
//go:noinline
func insertRangeTimed(m map[int64]int64, keys, latencies []int64, start, end int) {
	previous := nanotime()
	for i := start; i < end; i++ {
		m[keys[i]] = int64(i)
		now := nanotime()
		latencies[i] = now - previous
		previous = now
	}
}

//go:noinline
func lookupRange(m map[int64]int64, probe []int64) int {
	found := 0
	for _, k := range probe {
		if _, ok := m[k]; ok {
			found++
		}
	}
	return found
}

//go:noinline
func removeRange(m map[int64]int64, order []int64) {
	for _, k := range order {
		delete(m, k)
	}
}

//go:noinline
func sumAll(m map[int64]int64) int64 {
	sum := int64(0)
	for k, v := range m {
		sum += k ^ v
	}
	return sum
}

func chunkSize(n int) int {
	if n >= 1_000_000 {
		return (n + 9) / 10
	}
	return n
}

// build inserts in chunks of about 10 % (progress between chunks, outside the clock) and returns the ns spent inserting.
func build(m map[int64]int64, keys []int64, label string) int64 {
	var ns int64
	chunk := chunkSize(len(keys))
	for start := 0; start < len(keys); start += chunk {
		end := min(len(keys), start+chunk)
		t0 := nanotime()
		insertRange(m, keys, start, end)
		ns += nanotime() - t0
		buildProgress(label, end, len(keys))
	}
	return ns
}

func buildTimed(m map[int64]int64, keys, latencies []int64, label string) int64 {
	chunk := chunkSize(len(keys))
	for start := 0; start < len(keys); start += chunk {
		end := min(len(keys), start+chunk)
		insertRangeTimed(m, keys, latencies, start, end)
		buildProgress(label, end, len(keys))
	}
	var total int64
	for _, t := range latencies {
		total += t
	}
	return total
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func buildProgress(label string, done, n int) {
	if n >= 1_000_000 {
		progress("%s build %3d%% (%d / %d)", label, 100*done/n, done, n)
	}
}

// timerOverheadNs is the median cost of the clock read itself, measured with the same chained-read loop as the inserts.
func timerOverheadNs() float64 {
	samples := make([]int64, 0, 5*200_000)
	for rep := 0; rep < 5; rep++ {
		previous := nanotime()
		for i := 0; i < 200_000; i++ {
			now := nanotime()
			samples = append(samples, now-previous)
			previous = nanotime()
		}
	}
	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	return float64(samples[len(samples)/2])
}

// summarise gives the latency distribution exactly (sorted samples); the .NET children use an
// HdrHistogram with three significant digits, which rounds each percentile by at most 0.1 %.
func summarise(latencies []int64, timerOverhead float64) *latencySummary {
	s := &latencySummary{Count: int64(len(latencies)), TimerOverheadNs: timerOverhead}
	var sum float64
	for i, ns := range latencies {
		sum += float64(ns)
		if ns > s.MaxNs {
			s.MaxNs, s.MaxIndex = ns, int64(i)
		}
		if ns > 10_000 {
			s.Over10Us++
		}
		if ns > 1_000_000 {
			s.Over1Ms++
		}
	}
	s.MeanNs = sum / float64(len(latencies))
	sorted := append([]int64(nil), latencies...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
	at := func(p float64) int64 {
		i := int(p/100*float64(len(sorted))+0.5) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(sorted) {
			i = len(sorted) - 1
		}
		return sorted[i]
	}
	s.P50Ns, s.P90Ns, s.P99Ns, s.P999Ns, s.P9999Ns = at(50), at(90), at(99), at(99.9), at(99.99)
	return s
}

// downSample gives the median and maximum of each of about 2,000 blocks, plus every insert over the
// outlier threshold (the largest 20,000 if more), as the .NET children do.
func downSample(latencies []int64) *plotSeries {
	n := len(latencies)
	blockSize := (n + plotBlocks - 1) / plotBlocks
	if blockSize < 1 {
		blockSize = 1
	}
	p := &plotSeries{BlockSize: blockSize, OutlierThresholdNs: outlierThresholdNs}
	type outlier struct{ index, ns int64 }
	var outliers []outlier
	scratch := make([]int64, blockSize)
	for start := 0; start < n; start += blockSize {
		end := min(n, start+blockSize)
		best, bestIndex := int64(-1), int64(start)
		for i := start; i < end; i++ {
			ns := latencies[i]
			scratch[i-start] = ns
			if ns > best {
				best, bestIndex = ns, int64(i)
			}
			if ns >= outlierThresholdNs {
				outliers = append(outliers, outlier{int64(i), ns})
			}
		}
		block := scratch[:end-start]
		sort.Slice(block, func(a, b int) bool { return block[a] < block[b] })
		p.BlockStart = append(p.BlockStart, int64(start))
		p.BlockMedianNs = append(p.BlockMedianNs, block[len(block)/2])
		p.BlockMaxIndex = append(p.BlockMaxIndex, bestIndex)
		p.BlockMaxNs = append(p.BlockMaxNs, best)
	}
	if len(outliers) > maxOutliers {
		sort.Slice(outliers, func(a, b int) bool { return outliers[a].ns > outliers[b].ns })
		outliers = outliers[:maxOutliers]
		sort.Slice(outliers, func(a, b int) bool { return outliers[a].index < outliers[b].index })
	}
	p.OutlierIndex = []int64{}
	p.OutlierNs = []int64{}
	for _, o := range outliers {
		p.OutlierIndex = append(p.OutlierIndex, o.index)
		p.OutlierNs = append(p.OutlierNs, o.ns)
	}
	return p
}

// hmapHead is the start of runtime.hmap in Go 1.19–1.23 (src/runtime/map.go).
type hmapHead struct {
	count     int
	flags     uint8
	B         uint8
	noverflow uint16
	hash0     uint32
}

// describe reads B and the approximate overflow-bucket count from the map's header where the
// runtime is one with bucket maps; otherwise it reports the count only.
func describe(m map[int64]int64) string {
	v := runtime.Version()
	if minor, ok := goMinor(v); ok && minor >= 19 && minor <= 23 {
		h := *(**hmapHead)(unsafe.Pointer(&m))
		// noverflow counts every overflow bucket while B < 16, and one in 2^(B-15) at random above (incrnoverflow).
		overflow := int64(h.noverflow)
		if h.B >= 16 {
			overflow <<= h.B - 15
		}
		return fmt.Sprintf("%s map[int64]int64: count %d, B = %d (%d buckets), about %d overflow buckets (noverflow %d)",
			v, h.count, h.B, 1<<h.B, overflow, h.noverflow)
	}
	return fmt.Sprintf("%s map[int64]int64: count %d", v, len(m))
}

func goMinor(version string) (int, bool) {
	if !strings.HasPrefix(version, "go1.") {
		return 0, false
	}
	rest := strings.TrimPrefix(version, "go1.")
	if i := strings.IndexAny(rest, ".rcbeta "); i >= 0 {
		rest = rest[:i]
	}
	minor, err := strconv.Atoi(rest)
	return minor, err == nil
}

func statusBytes(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(strings.TrimPrefix(line, field))
			if len(f) > 0 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return -1
}

func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Minflt
}
