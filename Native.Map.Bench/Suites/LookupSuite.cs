using BenchmarkDotNet.Attributes;

namespace Native.Map.Bench.Suites;

/// <summary>
/// What <see cref="LookupHit"/> and <see cref="LookupMiss"/> share (<see cref="ProbedMaps"/>): each
/// invocation does <see cref="Work.LookupBatch"/> lookups on the next batch of probe keys. The
/// derived class picks the probe keys.
/// </summary>
public abstract class LookupSuite : ProbedMaps
{
    private readonly long[] _values = new long[Work.LookupBatch];
    private readonly bool[] _found = new bool[Work.LookupBatch];

    /// <summary>Entries in the map.</summary>
    [Params(1_000, 100_000, 1_000_000, 10_000_000)]
    public override int N { get; set; }

    /// <summary>Baseline: Dictionary.TryGetValue; returns the sum of the values found.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.LookupBatch)]
    public long Dictionary()
    {
        Dictionary<long, long> d = DictionaryMap;
        long[] probe = Probe;
        int start = NextBatch();
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            d.TryGetValue(probe[i], out long v);
            sum += v;
        }
        return sum;
    }

    /// <summary>NativeMap.TryGetValue; returns the sum of the values found.</summary>
    [Benchmark(OperationsPerInvoke = Work.LookupBatch)]
    public long NativeMap()
    {
        NativeMap<long, long> m = NativeMapUnderTest!;
        long[] probe = Probe;
        int start = NextBatch();
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            m.TryGetValue(probe[i], out long v);
            sum += v;
        }
        return sum;
    }

    /// <summary>NativeMap.TryGetValues: the same keys in one batched call (hashes and prefetches ahead).</summary>
    [Benchmark(OperationsPerInvoke = Work.LookupBatch)]
    public long NativeMapBatched()
    {
        int start = NextBatch();
        int hits = NativeMapUnderTest!.TryGetValues(Probe.AsSpan(start, Work.LookupBatch), _values, _found);
        return hits + _values[0];
    }
}
