using Microsoft.Extensions.ObjectPool;

namespace Native.Map;

// Pooling maps with Microsoft.Extensions.ObjectPool.
//
// What a pool buys: NativeMap.Clear is Go's clear(m), which keeps the bucket array, so a map that
// comes back from the pool is filled again to the same size without a single growth and without
// asking the OS for memory. (Go's sync.Pool cannot promise that for a map inside a pooled struct
// unless the code calls clear; here the policy does it on every Return.)
//
// What a pool must not do: keep a map that grew to a size the application no longer needs (its
// bucket array would stay mapped for the life of the pool), or keep a disposed map. The policy
// refuses both, and disposes the oversized one itself, because what a pool does with a refused
// object depends on the pool (Microsoft.Extensions.ObjectPool 10.0):
//
//   pool                                      refused by the policy     does not fit (pool full)
//   DefaultObjectPoolProvider.Create(policy)  disposed by the pool      disposed by the pool
//   ObjectPool.Create(policy)                 disposed by the pool      disposed by the pool
//   new DefaultObjectPool<T>(policy)          dropped (policy disposed) dropped: freed by the finalizer
//
// The first two return the library's internal DisposableObjectPool because NativeMap is
// IDisposable; disposing that pool disposes every map it retains, and Get afterwards throws
// ObjectDisposedException. Disposing a map twice is harmless (Dispose is idempotent), so the
// policy and the pool never conflict.

/// <summary>
/// An <see cref="ObjectPool{T}"/> policy for <see cref="NativeMap{TKey, TValue}"/>: creates maps with
/// an initial capacity, and on return clears them while keeping their bucket array, so that refilling
/// a pooled map to the size it had grows nothing. Maps that grew past
/// <see cref="MaximumRetainedCapacity"/> are disposed and refused; disposed maps are refused.
/// </summary>
/// <typeparam name="TKey">Key type of the pooled maps.</typeparam>
/// <typeparam name="TValue">Value type of the pooled maps.</typeparam>
/// <remarks>
/// <para>Create the pool with <c>new DefaultObjectPoolProvider().Create(policy)</c> or
/// <c>ObjectPool.Create(policy)</c>: both give a pool that disposes the maps it cannot keep and,
/// when disposed itself (cast it to <see cref="IDisposable"/>), every map it retains. A pool made with
/// <c>new DefaultObjectPool&lt;T&gt;(policy)</c> is not disposable and silently drops a returned map
/// when it is full; such a map is then freed only by its finalizer.</para>
/// <para>Return a map only when no other thread uses it: <see cref="Return"/> clears it, and a write
/// in progress on another thread makes that clear throw <see cref="InvalidOperationException"/>.</para>
/// </remarks>
public sealed class NativeMapPooledObjectPolicy<TKey, TValue> : PooledObjectPolicy<NativeMap<TKey, TValue>>
    where TKey : unmanaged, IEquatable<TKey>
    where TValue : unmanaged
{
    private readonly long _retainLimit;

    /// <summary>Creates the policy.</summary>
    /// <param name="initialCapacity">Capacity hint of the maps <see cref="Create"/> makes.</param>
    /// <param name="maximumRetainedCapacity">Largest capacity a returned map may have and still be kept: a map whose
    /// bucket array is larger than the one <c>new NativeMap(maximumRetainedCapacity)</c> allocates is disposed.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialCapacity"/> is negative, or
    /// <paramref name="maximumRetainedCapacity"/> is less than <paramref name="initialCapacity"/>.</exception>
    public NativeMapPooledObjectPolicy(int initialCapacity, int maximumRetainedCapacity)
    {
        _retainLimit = PooledMapRules.RetainLimit<TKey, TValue, DefaultKeyHasher<TKey>>(initialCapacity, maximumRetainedCapacity);
        InitialCapacity = initialCapacity;
        MaximumRetainedCapacity = maximumRetainedCapacity;
    }

    /// <summary>Capacity hint of the maps <see cref="Create"/> makes.</summary>
    public int InitialCapacity { get; }

    /// <summary>Largest capacity hint whose bucket array a returned map may have and still be kept.</summary>
    public int MaximumRetainedCapacity { get; }

    /// <summary>Makes a new map with <see cref="InitialCapacity"/>.</summary>
    /// <returns>An empty map.</returns>
    /// <exception cref="OutOfMemoryException">The bucket array could not be allocated.</exception>
    public override NativeMap<TKey, TValue> Create() => new(InitialCapacity);

    /// <summary>
    /// Clears <paramref name="obj"/> and keeps it, or refuses it: a disposed map is refused, a map
    /// that grew past <see cref="MaximumRetainedCapacity"/> is disposed and refused.
    /// </summary>
    /// <param name="obj">A map taken from the pool (or any map of this type).</param>
    /// <returns>True when the pool may keep the map.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="obj"/> is null.</exception>
    /// <exception cref="InvalidOperationException">A write on another thread is using the map (concurrent map writes); the map is unchanged.</exception>
    public override bool Return(NativeMap<TKey, TValue> obj) => PooledMapRules.Recycle(obj, _retainLimit);
}

/// <summary>
/// The same policy as <see cref="NativeMapPooledObjectPolicy{TKey, TValue}"/> for maps with a custom
/// <see cref="IKeyHasher{TKey}"/>.
/// </summary>
/// <typeparam name="TKey">Key type of the pooled maps.</typeparam>
/// <typeparam name="TValue">Value type of the pooled maps.</typeparam>
/// <typeparam name="THasher">Hashing and equality of the pooled maps.</typeparam>
/// <remarks>See <see cref="NativeMapPooledObjectPolicy{TKey, TValue}"/> for which pools dispose refused maps.</remarks>
public sealed class NativeMapPooledObjectPolicy<TKey, TValue, THasher> : PooledObjectPolicy<NativeMap<TKey, TValue, THasher>>
    where TKey : unmanaged
    where TValue : unmanaged
    where THasher : struct, IKeyHasher<TKey>
{
    private readonly long _retainLimit;

    /// <summary>Creates the policy.</summary>
    /// <param name="initialCapacity">Capacity hint of the maps <see cref="Create"/> makes.</param>
    /// <param name="maximumRetainedCapacity">Largest capacity a returned map may have and still be kept: a map whose
    /// bucket array is larger than the one a map created with this hint allocates is disposed.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialCapacity"/> is negative, or
    /// <paramref name="maximumRetainedCapacity"/> is less than <paramref name="initialCapacity"/>.</exception>
    public NativeMapPooledObjectPolicy(int initialCapacity, int maximumRetainedCapacity)
    {
        _retainLimit = PooledMapRules.RetainLimit<TKey, TValue, THasher>(initialCapacity, maximumRetainedCapacity);
        InitialCapacity = initialCapacity;
        MaximumRetainedCapacity = maximumRetainedCapacity;
    }

    /// <summary>Capacity hint of the maps <see cref="Create"/> makes.</summary>
    public int InitialCapacity { get; }

    /// <summary>Largest capacity hint whose bucket array a returned map may have and still be kept.</summary>
    public int MaximumRetainedCapacity { get; }

    /// <summary>Makes a new map with <see cref="InitialCapacity"/>.</summary>
    /// <returns>An empty map.</returns>
    /// <exception cref="OutOfMemoryException">The bucket array could not be allocated.</exception>
    public override NativeMap<TKey, TValue, THasher> Create() => new(InitialCapacity);

    /// <summary>
    /// Clears <paramref name="obj"/> and keeps it, or refuses it: a disposed map is refused, a map
    /// that grew past <see cref="MaximumRetainedCapacity"/> is disposed and refused.
    /// </summary>
    /// <param name="obj">A map taken from the pool (or any map of this type).</param>
    /// <returns>True when the pool may keep the map.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="obj"/> is null.</exception>
    /// <exception cref="InvalidOperationException">A write on another thread is using the map (concurrent map writes); the map is unchanged.</exception>
    public override bool Return(NativeMap<TKey, TValue, THasher> obj) => PooledMapRules.Recycle(obj, _retainLimit);
}

/// <summary>The rules both policies share.</summary>
internal static class PooledMapRules
{
    /// <summary>
    /// Validates the policy's arguments and returns the largest <see cref="NativeMap{TKey, TValue, THasher}.Capacity"/>
    /// a kept map may have: the capacity of the bucket array that the hint
    /// <paramref name="maximumRetainedCapacity"/> allocates (hints round up to 6.5 * 2^B entries).
    /// </summary>
    public static long RetainLimit<TKey, TValue, THasher>(int initialCapacity, int maximumRetainedCapacity)
        where TKey : unmanaged
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumRetainedCapacity, initialCapacity);
        return NativeMap<TKey, TValue, THasher>.CapacityFor(NativeMap<TKey, TValue, THasher>.BucketsLog2ForHint(maximumRetainedCapacity));
    }

    /// <summary>
    /// Return's rule: refuse a disposed map; dispose and refuse a map whose capacity exceeds
    /// <paramref name="retainLimit"/>; otherwise clear it (Go's clear(m): the bucket array stays) and keep it.
    /// </summary>
    public static bool Recycle<TKey, TValue, THasher>(NativeMap<TKey, TValue, THasher> map, long retainLimit)
        where TKey : unmanaged
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey>
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.IsDisposed)
        {
            return false;
        }
        if (map.Capacity > retainLimit)
        {
            // Disposed here rather than left to the pool: DefaultObjectPool drops a refused object
            // without disposing it, which would leave the bucket array to the finalizer.
            map.Dispose();
            return false;
        }
        map.Clear();
        return true;
    }
}
