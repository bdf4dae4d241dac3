namespace Native.Map.Bench.Demo;

/// <summary>
/// The operations the scenario runner measures, implemented by one struct per map. The measuring
/// loops are generic over a struct implementing this, so the JIT compiles one specialised copy per
/// map with direct (inlinable) calls: the loop around the map is the same machine code shape for both.
/// </summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
internal interface IMapUnderTest<TSelf> : IDisposable
    where TSelf : struct, IMapUnderTest<TSelf>
{
    /// <summary>Display name, also the --map value.</summary>
    static abstract string Name { get; }

    /// <summary>A new empty map (no capacity hint: the demo measures insert from empty).</summary>
    static abstract TSelf Create();

    /// <summary>A new empty map sized for <paramref name="capacity"/> entries (the presized build).</summary>
    static abstract TSelf CreatePresized(int capacity);

    int Count { get; }

    void Add(long key, long value);

    bool TryGetValue(long key, out long value);

    bool Remove(long key);

    /// <summary>Visits every entry and folds keys and values into one number.</summary>
    long SumAll();

    /// <summary>Native bytes this map owns (0 for a managed map).</summary>
    long NativeBytes { get; }

    /// <summary>One-line shape description for the report (buckets, overflow, load factor...).</summary>
    string Describe();
}

/// <summary>
/// The batched calls of a map that has them (NativeMap: <c>TryGetValues</c>, <c>RemoveKeys</c>).
/// The demo times them against Dictionary's single-key calls, which is what a caller without
/// batched calls does. Called once per batch (thousands of keys), so the interface call is noise.
/// </summary>
internal interface IBatchedMapUnderTest
{
    /// <summary>Looks up every key of <paramref name="keys"/>; returns how many were found.</summary>
    int TryGetValues(ReadOnlySpan<long> keys, Span<long> values, Span<bool> found);

    /// <summary>Removes every key of <paramref name="keys"/>; returns how many were removed.</summary>
    int RemoveKeys(ReadOnlySpan<long> keys);

    /// <summary>Inserts or overwrites every pair (<c>SetValues</c>).</summary>
    void SetValues(ReadOnlySpan<long> keys, ReadOnlySpan<long> values);
}

/// <summary><see cref="Dictionary{TKey, TValue}"/>&lt;long, long&gt; under test.</summary>
internal readonly struct DictionaryUnderTest(Dictionary<long, long> map) : IMapUnderTest<DictionaryUnderTest>
{
    public static string Name => "Dictionary";

    public static DictionaryUnderTest Create() => new(new Dictionary<long, long>());

    public static DictionaryUnderTest CreatePresized(int capacity) => new(new Dictionary<long, long>(capacity));

    public int Count => map.Count;

    public long NativeBytes => 0;

    public void Add(long key, long value) => map.Add(key, value);

    public bool TryGetValue(long key, out long value) => map.TryGetValue(key, out value);

    public bool Remove(long key) => map.Remove(key);

    public long SumAll()
    {
        long sum = 0;
        foreach (KeyValuePair<long, long> kv in map)
        {
            sum += kv.Key ^ kv.Value;
        }
        return sum;
    }

    public string Describe() => $"capacity {map.EnsureCapacity(0):N0} entries";

    /// <summary>
    /// Drops the dictionary's arrays (its nearest to NativeMap's Dispose), so that they are garbage
    /// even while a caller's frame still holds the struct (the presized build settles after this).
    /// </summary>
    public void Dispose()
    {
        map.Clear();
        map.TrimExcess();
    }
}

/// <summary><see cref="NativeMap{TKey, TValue}"/>&lt;long, long&gt; under test.</summary>
internal readonly struct NativeMapUnderTest(NativeMap<long, long> map) : IMapUnderTest<NativeMapUnderTest>, IBatchedMapUnderTest
{
    public static string Name => "NativeMap";

    public static NativeMapUnderTest Create() => new(new NativeMap<long, long>());

    public static NativeMapUnderTest CreatePresized(int capacity) => new(new NativeMap<long, long>(capacity));

    public int Count => map.Count;

    public long NativeBytes => map.GetStats().NativeBytes;

    public void Add(long key, long value) => map.Add(key, value);

    public bool TryGetValue(long key, out long value) => map.TryGetValue(key, out value);

    public bool Remove(long key) => map.Remove(key);

    public int TryGetValues(ReadOnlySpan<long> keys, Span<long> values, Span<bool> found) => map.TryGetValues(keys, values, found);

    public int RemoveKeys(ReadOnlySpan<long> keys) => map.RemoveKeys(keys);

    public void SetValues(ReadOnlySpan<long> keys, ReadOnlySpan<long> values) => map.SetValues(keys, values);

    public long SumAll()
    {
        long sum = 0;
        foreach (KeyValuePair<long, long> kv in map)
        {
            sum += kv.Key ^ kv.Value;
        }
        return sum;
    }

    public string Describe()
    {
        NativeMapStats s = map.GetStats();
        return $"B = {s.B}, {s.BucketCount:N0} buckets + {s.OverflowBucketCount:N0} overflow, load {s.LoadFactor:F2}, growing = {s.IsGrowing}, growths = {s.GrowthsStarted}";
    }

    public void Dispose() => map.Dispose();
}
