using Native.Map.Memory;

namespace Native.Map;

/// <summary>
/// A hash map whose buckets live in native memory: Go's runtime map (8-slot buckets with tophash
/// bytes, overflow chains, incremental growth) on <c>NativeMemory</c>, keyed by
/// <see cref="IEquatable{T}.Equals(T)"/>. The garbage collector never scans it, and no insert
/// rehashes the whole table.
/// </summary>
/// <typeparam name="TKey">Key type; keys over 128 bytes are stored in separate blocks.</typeparam>
/// <typeparam name="TValue">Value type; values over 128 bytes are stored in separate blocks.</typeparam>
/// <remarks>See <see cref="NativeMap{TKey, TValue, THasher}"/> for threading, iteration and disposal.
/// For a custom hash or equality, use that class with your own <see cref="IKeyHasher{TKey}"/>.</remarks>
public sealed class NativeMap<TKey, TValue> : NativeMap<TKey, TValue, DefaultKeyHasher<TKey>>
    where TKey : unmanaged, IEquatable<TKey>
    where TValue : unmanaged
{
    /// <summary>Creates an empty map; no buckets are allocated until the first write.</summary>
    public NativeMap()
        : base(0, null, null)
    {
    }

    /// <summary>Creates an empty map whose bucket array holds <paramref name="capacity"/> entries without growing.</summary>
    /// <param name="capacity">Entries to hold before the first growth; hints up to 8 allocate lazily.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    /// <exception cref="OutOfMemoryException">The bucket array could not be allocated.</exception>
    public NativeMap(int capacity)
        : base(capacity, null, null)
    {
    }

    /// <summary>Test and benchmark hook: a map on a given allocator, optionally with a fixed hash seed.</summary>
    internal NativeMap(int capacity, NativeAllocator? allocator, uint? fixedHash0 = null)
        : base(capacity, allocator, fixedHash0)
    {
    }
}
