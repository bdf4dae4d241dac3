using BenchmarkDotNet.Attributes;
using Native.Map.Bench.Common;

namespace Native.Map.Bench.Suites;

/// <summary>
/// What the lookup-shaped suites share: both maps built from empty (like an index built at run
/// time) from the same N keys, a shuffled probe order fixed in [GlobalSetup], and a cursor, so that
/// each invocation works on the next batch of <see cref="Work.LookupBatch"/> probe keys. The derived
/// class picks N's values and the probe keys.
/// </summary>
public abstract class ProbedMaps
{
    /// <summary>The Dictionary under test.</summary>
    protected Dictionary<long, long> DictionaryMap { get; private set; } = [];

    /// <summary>The NativeMap under test (null after [GlobalCleanup]).</summary>
    protected NativeMap<long, long>? NativeMapUnderTest { get; private set; }

    /// <summary>The probe keys in their fixed shuffled order.</summary>
    protected long[] Probe { get; private set; } = [];

    private int _next;

    /// <summary>Entries in the map (the derived class declares its [Params]).</summary>
    public abstract int N { get; set; }

    /// <summary>The keys to look up, before shuffling, given the N inserted ones.</summary>
    protected abstract long[] ProbeKeys(long[] inserted);

    /// <summary>Builds both maps and the probe order.</summary>
    [GlobalSetup]
    public void Setup()
    {
        long[] keys = Keys.Hits(N);
        DictionaryMap = MapSets.Build(keys, () => new Dictionary<long, long>());
        NativeMapUnderTest = MapSets.Build(keys, () => new NativeMap<long, long>());
        Probe = Keys.ProbeOrder(ProbeKeys(keys), Work.LookupBatch);
        _next = 0;
    }

    /// <summary>Frees the NativeMap.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMapUnderTest?.Dispose();
        NativeMapUnderTest = null;
    }

    /// <summary>Start of this invocation's batch; moves the cursor to the next one.</summary>
    protected int NextBatch()
    {
        int start = _next;
        _next = start + Work.LookupBatch == Probe.Length ? 0 : start + Work.LookupBatch;
        return start;
    }
}
