using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Suites;

/// <summary>
/// Look up keys that are absent (the next N outputs of the key stream), shuffled in [GlobalSetup]: each invocation does
/// <see cref="Work.LookupBatch"/> TryGetValue calls on the next batch of the shuffled keys.
/// </summary>
[BenchmarkCategory("LookupMiss")]
public class LookupMiss
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

    /// <summary>Builds both maps (from empty, like an index built at run time) and the lookup order.</summary>
    [GlobalSetup]
    public void Setup()
    {
        long[] keys = Keys.Hits(N);
        _dictionary = new Dictionary<long, long>();
        _map = new NativeMap<long, long>();
        for (int i = 0; i < keys.Length; i++)
        {
            _dictionary.Add(keys[i], i);
            _map.Add(keys[i], i);
        }
        _probe = Keys.ProbeOrder(Keys.Misses(N), Work.LookupBatch);
        _next = 0;
    }

    /// <summary>Baseline: Dictionary.TryGetValue; returns how many were found (0).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.LookupBatch)]
    public long Dictionary()
    {
        Dictionary<long, long> d = _dictionary;
        long[] probe = _probe;
        int start = _next;
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            sum += d.TryGetValue(probe[i], out _) ? 1 : 0;
        }
        _next = start + Work.LookupBatch == probe.Length ? 0 : start + Work.LookupBatch;
        return sum;
    }

    /// <summary>NativeMap.TryGetValue.</summary>
    [Benchmark(OperationsPerInvoke = Work.LookupBatch)]
    public long NativeMap()
    {
        NativeMap<long, long> m = _map!;
        long[] probe = _probe;
        int start = _next;
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            sum += m.TryGetValue(probe[i], out _) ? 1 : 0;
        }
        _next = start + Work.LookupBatch == probe.Length ? 0 : start + Work.LookupBatch;
        return sum;
    }

    /// <summary>NativeMap.TryGetValues: the same keys in one batched call (hashes and prefetches ahead).</summary>
    [Benchmark(OperationsPerInvoke = Work.LookupBatch)]
    public long NativeMapBatched()
    {
        int start = _next;
        int hits = _map!.TryGetValues(_probe.AsSpan(start, Work.LookupBatch), _values, _found);
        _next = start + Work.LookupBatch == _probe.Length ? 0 : start + Work.LookupBatch;
        return hits + _values[0];
    }

    /// <summary>Frees the NativeMap.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _map?.Dispose();
        _map = null;
    }
}
