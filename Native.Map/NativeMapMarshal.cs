using System.Runtime.CompilerServices;
using Native.Map.Core;

namespace Native.Map;

/// <summary>
/// Unsafe but fast access to a map's value slots, in the style of
/// <see cref="System.Runtime.InteropServices.CollectionsMarshal"/>: <c>NativeMapMarshal.GetValueRefOrAddDefault(counts, key, out _)++</c>
/// counts with one lookup.
/// </summary>
/// <remarks>
/// A returned reference points into native memory and is valid only until the next write to the
/// map (insert, remove, Clear, EnsureCapacity, Dispose): a write may move the entry (growth) or free
/// its memory. Using it after that reads or corrupts unrelated memory. Overwriting the value through
/// the reference is not a write to the map and is fine.
/// </remarks>
public static unsafe class NativeMapMarshal
{
    /// <summary>A reference to the value of <paramref name="key"/>, or a null reference when absent (test with <see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>).</summary>
    /// <typeparam name="TKey">Key type.</typeparam>
    /// <typeparam name="TValue">Value type.</typeparam>
    /// <typeparam name="THasher">The map's hasher.</typeparam>
    /// <param name="map">The map.</param>
    /// <param name="key">The key.</param>
    /// <returns>The value slot, valid until the next write to the map.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed (also by the key's own hash or equality code during the lookup).</exception>
    /// <exception cref="InvalidOperationException">The key's hash or equality code wrote to the map during the lookup (or another thread did).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref TValue GetValueRefOrNullRef<TKey, TValue, THasher>(NativeMap<TKey, TValue, THasher> map, TKey key)
        where TKey : unmanaged
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey>
    {
        ArgumentNullException.ThrowIfNull(map);
        TValue* v = map.FindValueForMarshal(in key);
        if (v == null)
        {
            return ref Unsafe.NullRef<TValue>();
        }
        return ref *v;
    }

    /// <summary>A reference to the value of <paramref name="key"/>, inserting default first when absent.</summary>
    /// <typeparam name="TKey">Key type.</typeparam>
    /// <typeparam name="TValue">Value type.</typeparam>
    /// <typeparam name="THasher">The map's hasher.</typeparam>
    /// <param name="map">The map.</param>
    /// <param name="key">The key.</param>
    /// <param name="exists">Whether the key was already present.</param>
    /// <returns>The value slot, valid until the next write to the map.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for a growth, an overflow bucket or an indirect key or value could not be allocated; the map is unchanged.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref TValue GetValueRefOrAddDefault<TKey, TValue, THasher>(NativeMap<TKey, TValue, THasher> map, TKey key, out bool exists)
        where TKey : unmanaged
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey>
    {
        ArgumentNullException.ThrowIfNull(map);
        return ref *map.AssignForMarshal(in key, out exists);
    }
}
