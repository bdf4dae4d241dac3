using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Native.Map.Bench.Suites;

/// <summary>
/// The map called from a small method of the user's own that the JIT compiles on its own (a
/// service's index class with one-line methods, an interface implementation, a method too big to
/// be inlined into its caller), instead of from the measured loop itself. Such a method is the
/// root of its compilation, with the small inlining budget of a small method; the other suites
/// inline the map into a loop with a large one. Both maps are built from empty from the same N
/// keys (<see cref="ProbedMaps"/>); each invocation looks up, or removes and adds back, the next
/// batch of keys in a shuffled order (removing and adding back keeps the map's size, so invocations
/// repeat).
/// </summary>
public class ThroughWrapper : ProbedMaps
{
    /// <summary>Entries in the map.</summary>
    [Params(100_000, 10_000_000)]
    public override int N { get; set; }

    /// <inheritdoc/>
    protected override long[] ProbeKeys(long[] inserted) => inserted;

    /// <summary>Baseline: Dictionary.TryGetValue from a non-inlined method; returns the sum of the values found.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Work.LookupBatch)]
    [BenchmarkCategory("WrappedLookupHit")]
    public long DictionaryLookup()
    {
        Dictionary<long, long> d = DictionaryMap;
        long[] probe = Probe;
        int start = NextBatch();
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            sum += Wrapper.Get(d, probe[i]);
        }
        return sum;
    }

    /// <summary>NativeMap.TryGetValue from a non-inlined method; returns the sum of the values found.</summary>
    [Benchmark(OperationsPerInvoke = Work.LookupBatch)]
    [BenchmarkCategory("WrappedLookupHit")]
    public long NativeMapLookup()
    {
        NativeMap<long, long> m = NativeMapUnderTest!;
        long[] probe = Probe;
        int start = NextBatch();
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            sum += Wrapper.Get(m, probe[i]);
        }
        return sum;
    }

    /// <summary>Baseline: Dictionary.Remove then TryAdd of the same key, each from a non-inlined method (two operations per key).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * Work.LookupBatch)]
    [BenchmarkCategory("WrappedRemoveAdd")]
    public long DictionaryRemoveAdd()
    {
        Dictionary<long, long> d = DictionaryMap;
        long[] probe = Probe;
        int start = NextBatch();
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            sum += Wrapper.Remove(d, probe[i]);
            Wrapper.Add(d, probe[i], i);
        }
        return sum;
    }

    /// <summary>NativeMap.Remove then TryAdd of the same key, each from a non-inlined method (two operations per key).</summary>
    [Benchmark(OperationsPerInvoke = 2 * Work.LookupBatch)]
    [BenchmarkCategory("WrappedRemoveAdd")]
    public long NativeMapRemoveAdd()
    {
        NativeMap<long, long> m = NativeMapUnderTest!;
        long[] probe = Probe;
        int start = NextBatch();
        long sum = 0;
        for (int i = start; i < start + Work.LookupBatch; i++)
        {
            sum += Wrapper.Remove(m, probe[i]);
            Wrapper.Add(m, probe[i], i);
        }
        return sum;
    }

    /// <summary>The user's one-line methods, each compiled on its own.</summary>
    private static class Wrapper
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Get(Dictionary<long, long> d, long key) => d.TryGetValue(key, out long v) ? v : 0;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Get(NativeMap<long, long> m, long key) => m.TryGetValue(key, out long v) ? v : 0;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Remove(Dictionary<long, long> d, long key) => d.Remove(key, out long v) ? v : 0;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Remove(NativeMap<long, long> m, long key) => m.Remove(key, out long v) ? v : 0;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Add(Dictionary<long, long> d, long key, long value) => d.TryAdd(key, value);

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Add(NativeMap<long, long> m, long key, long value) => m.TryAdd(key, value);
    }
}
