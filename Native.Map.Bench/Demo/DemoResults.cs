namespace Native.Map.Bench.Demo;

/// <summary>Per-insert latency distribution of one build, in nanoseconds.</summary>
internal sealed record LatencySummary(
    long Count,
    double MeanNs,
    long P50Ns,
    long P90Ns,
    long P99Ns,
    long P999Ns,
    long P9999Ns,
    long MaxNs,
    long MaxIndex,
    long Over10Us,
    long Over1Ms,
    double TimerOverheadNs);

/// <summary>One growth of the NativeMap seen through its telemetry (insert indexes are 0-based).</summary>
internal sealed record GrowthEvent(
    int Number,
    string Kind,
    long StartIndex,
    long EndIndex,
    double DurationMs,
    long BucketsEvacuated,
    long OverflowBucketsAllocated)
{
    /// <summary>Inserts from the one that started the growth to the one that finished it, inclusive; -1 if it did not finish during the build.</summary>
    public long InsertsToFinish => EndIndex < 0 ? -1 : EndIndex - StartIndex + 1;
}

/// <summary>Down-sampled per-insert latencies for the plot: median and maximum of each block, plus every insert over a threshold.</summary>
internal sealed record PlotSeries(
    int BlockSize,
    long[] BlockStart,
    long[] BlockMedianNs,
    long[] BlockMaxIndex,
    long[] BlockMaxNs,
    long OutlierThresholdNs,
    long[] OutlierIndex,
    long[] OutlierNs);

/// <summary>What one child process measured for one map.</summary>
internal sealed record ChildResult
{
    public required string Map { get; init; }

    public required string Mode { get; init; }

    public required int N { get; init; }

    public required int Round { get; init; }

    public int WarmupRounds { get; init; }

    /// <summary>The machine's 1-minute load average when the build started (/proc/loadavg): how busy the shared machine was.</summary>
    public double LoadAverage { get; init; }

    public double BuildMs { get; init; }

    public double InsertNsPerOp { get; init; }

    /// <summary>Build of a map made with a capacity of N (presized mode, a process of its own), ns per insert.</summary>
    public double? InsertPresizedNsPerOp { get; init; }

    /// <summary>The presized build through <c>SetValues</c> (1,024 keys a call), ns per key; null for a map without batched calls.</summary>
    public double? InsertPresizedBatchedNs { get; init; }

    public int Gen0 { get; init; }

    public int Gen1 { get; init; }

    public int Gen2 { get; init; }

    /// <summary>GC cycles during the build, for the Go map (Go's collector is not generational: every cycle marks the whole heap); null for the .NET maps.</summary>
    public int? GcCycles { get; init; }

    /// <summary><see cref="Common.Keys.Digest"/> of the keys the child generated (hits; in throughput mode also misses and lookup order).</summary>
    public ulong KeyDigest { get; init; }

    public double GcPauseMs { get; init; }

    public long ManagedAllocatedBytes { get; init; }

    /// <summary>Minor page faults during the build (fresh pages mapped by the kernel), -1 where unknown.</summary>
    public long MinorPageFaults { get; init; }

    public long ManagedLiveBytes { get; init; }

    public long NativeBytes { get; init; }

    public long NativeLiveBytesDelta { get; init; }

    public long RssBeforeBuildBytes { get; init; }

    public long PeakRssBytes { get; init; }

    public bool PeakRssIsBuildOnly { get; init; }

    public double LookupHitNs { get; init; }

    public int LookupHitPasses { get; init; }

    public double LookupMissNs { get; init; }

    public int LookupMissPasses { get; init; }

    public double IterateNs { get; init; }

    public int IteratePasses { get; init; }

    public double RemoveNs { get; init; }

    public int RemovePasses { get; init; }

    /// <summary>Batched lookups of the hit keys (<c>TryGetValues</c>, 16,384 keys a call), ns per key; null for a map without batched calls.</summary>
    public double? LookupHitBatchedNs { get; init; }

    /// <summary>Batched lookups of the miss keys, ns per key; null for a map without batched calls.</summary>
    public double? LookupMissBatchedNs { get; init; }

    /// <summary>Batched removal of every key in shuffled order (<c>RemoveKeys</c>, 1,024 keys a call), ns per key; null for a map without batched calls.</summary>
    public double? RemoveBatchedNs { get; init; }

    public string Shape { get; init; } = "";

    public LatencySummary? Latency { get; init; }

    public List<GrowthEvent>? Growths { get; init; }

    public PlotSeries? Plot { get; init; }
}
