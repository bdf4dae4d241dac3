using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Suites;

/// <summary>
/// What <see cref="LookupHit"/> and <see cref="LookupMiss"/> share: both maps built from empty (like
/// an index built at run time) from the same N keys, a shuffled probe order fixed in [GlobalSetup],
/// and a cursor, so that each invocation does <see cref="Work.LookupBatch"/> lookups on the next
/// batch of probe keys. The derived class picks the probe keys.
/// </summary>
public abstract class LookupSuite
{
    private Dictionary<long, long> _dictionary = [];
    private NativeMap<long, long>? _map;
    private long[] _probe = [];
    private int _next;
    private readonly long[] _values = new long[Work.LookupBatch];
    private readonly bool[] _found = new bool[Work.LookupBatch];

    /// <summary>Entries in the map.</summary>
    [Params(1_000, 100_000, 1_000_000, 10_000_000)]
    public int N { get; set; }

    /// <summary>The keys to look up, before shuffling, given the N inserted ones.</summary>
    protected abstract long[] ProbeKeys(long[] inserted);

    /// <summary>Builds both maps and the lookup order.</summary>
    [GlobalSetup]
    public void Setup()
    {
        long[] keys = Keys.Hits(N);
        _dictionary = MapSets.Build(keys, () => new Dictionary<long, long>());
        _map = MapSets.Build(keys, () => new NativeMap<long, long>());
        _probe = Keys.ProbeOrder(ProbeKeys(keys), Work.LookupBatch);
        _next = 0;
    }

    /// <summary>Baseline: Dictionary.TryGetValue; returns the sum of the values found.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.LookupBatch)]
    public long Dictionary()
    {
        Dictionary<long, long> d = _dictionary;
        long[] probe = _probe;
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
        NativeMap<long, long> m = _map!;
        long[] probe = _probe;
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
        int hits = _map!.TryGetValues(_probe.AsSpan(start, Work.LookupBatch), _values, _found);
        return hits + _values[0];
    }

    /// <summary>Frees the NativeMap.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _map?.Dispose();
        _map = null;
    }

    /// <summary>Start of this invocation's batch; moves the cursor to the next one.</summary>
    private int NextBatch()
    {
        int start = _next;
        _next = start + Work.LookupBatch == _probe.Length ? 0 : start + Work.LookupBatch;
        return start;
    }
}
