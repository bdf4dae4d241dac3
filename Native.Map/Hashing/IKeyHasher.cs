namespace Native.Map;

/// <summary>
/// Hashing and equality for the keys of a <see cref="NativeMap{TKey, TValue, THasher}"/>, supplied as
/// a struct type argument: the calls are resolved at JIT time, so a custom hasher costs no interface
/// call per operation.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <remarks>
/// <see cref="Hash"/> must agree with <see cref="KeyEquals"/> (equal keys, equal hashes) and should
/// mix <c>seed</c> into every output bit: the map re-seeds to defeat crafted collisions, and takes
/// the low bits to pick a bucket and the top byte as the per-slot tophash.
/// </remarks>
public interface IKeyHasher<TKey>
    where TKey : unmanaged
{
    /// <summary>The 64-bit hash of <paramref name="key"/> under the map's <paramref name="seed"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="seed">The map's current seed (changes on Clear and when the map empties).</param>
    /// <returns>A well-mixed 64-bit hash.</returns>
    static abstract ulong Hash(in TKey key, ulong seed);

    /// <summary>Whether two keys are the same key.</summary>
    /// <param name="x">The first key.</param>
    /// <param name="y">The second key.</param>
    /// <returns>True when they are equal.</returns>
    static abstract bool KeyEquals(in TKey x, in TKey y);

    /// <summary>
    /// Whether <see cref="Hash"/> or <see cref="KeyEquals"/> may run user code: throw, or call back
    /// into the map they hash for. When true, a lookup checks after each call that the map did not
    /// change (a change throws <see cref="InvalidOperationException"/>, a Dispose
    /// <see cref="ObjectDisposedException"/>, instead of reading freed or stale buckets). A hasher
    /// that returns false promises neither; the built-in ones return false only for the built-in
    /// key types, whose hashing runs no user code, so their lookups carry no such check. (An
    /// evacuation always hashes a whole old bucket before it moves anything, so an exception leaves
    /// the map consistent.) Go: hashMightPanic.
    /// </summary>
    static virtual bool CanThrow => true;
}
