using System.Collections;
using System.Runtime.CompilerServices;
using Native.Map.Core;
using Native.Map.Memory;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

/// <summary>
/// A hash map whose buckets live in native memory, with the hashing and equality of
/// <typeparamref name="THasher"/>. It is Go's runtime map (8-slot buckets with tophash bytes,
/// overflow chains, incremental growth) on <c>NativeMemory</c>: the garbage collector never scans
/// or moves it, and no insert ever rehashes the whole table.
/// </summary>
/// <typeparam name="TKey">Key type; keys over 128 bytes are stored in separate blocks.</typeparam>
/// <typeparam name="TValue">Value type; values over 128 bytes are stored in separate blocks.</typeparam>
/// <typeparam name="THasher">Hashing and equality, resolved at JIT time.</typeparam>
/// <remarks>
/// <para>Not thread-safe for writers: a second concurrent writer gets
/// <see cref="InvalidOperationException"/> ("concurrent map writes") and changes nothing. Any number
/// of readers may run concurrently when no writer runs; a reader that overlaps a writer is detected
/// on a best-effort basis, as in Go.</para>
/// <para>Dispose the map to free its memory; a map that is never disposed is freed by its finalizer.</para>
/// </remarks>
public unsafe partial class NativeMap<TKey, TValue, THasher> : IDictionary<TKey, TValue>, IReadOnlyDictionary<TKey, TValue>, IDisposable
    where TKey : unmanaged
    where TValue : unmanaged
    where THasher : struct, IKeyHasher<TKey>
{
    // The single-key entry points (indexer, TryGetValue, GetValueOrDefault, ContainsKey, Add, TryAdd,
    // Remove, and NativeMapMarshal's two) are AggressiveInlining, down to the helpers they call. The
    // JIT raises a method's inlining budget for a chain of forced inlines only; a discretionary inline
    // of one of these into a small caller (a wrapper class's one-line method, an interface
    // implementation) charged everything under it to that caller's small budget, which ran out half
    // way and left the bucket helpers (At, MatchTopHash, Key, Value, MarkEmpty ...) as calls.

    private KeyCollection? _keys;
    private ValueCollection? _values;

    /// <summary>Creates an empty map; no buckets are allocated until the first write.</summary>
    public NativeMap()
        : this(0, null, null)
    {
    }

    /// <summary>Creates an empty map whose bucket array holds <paramref name="capacity"/> entries without growing.</summary>
    /// <param name="capacity">Entries to hold before the first growth; hints up to 8 allocate lazily.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    /// <exception cref="OutOfMemoryException">The bucket array could not be allocated.</exception>
    public NativeMap(int capacity)
        : this(capacity, null, null)
    {
    }

    /// <summary>Entries in the map.</summary>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    public int Count
    {
        get
        {
            CheckDisposed();
            return (int)_h.Count;
        }
    }

    /// <summary>Whether <see cref="Dispose"/> has run; the only member that does not throw afterwards.</summary>
    public bool IsDisposed => (Volatile.Read(ref _h.Flags) & Disposed) != 0;

    /// <summary>Entries the map holds before its next growth (6.5 per bucket; 8 for a single bucket).</summary>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    public int Capacity
    {
        get
        {
            CheckDisposed();
            return (int)Math.Min(int.MaxValue, CapacityFor(Math.Max(_h.B, _targetB)));
        }
    }

    /// <summary>Gets or sets the value of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value stored for the key.</returns>
    /// <exception cref="KeyNotFoundException">Get: the key is not in the map.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Set: another write is in progress (concurrent map writes). Get: the key's hash or equality code wrote to the map during the lookup (or another thread did).</exception>
    /// <exception cref="OutOfMemoryException">Set: native memory for a growth, an overflow bucket or an indirect key or value could not be allocated; the map is unchanged.</exception>
    public TValue this[TKey key]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            TValue* v = FindValue(in key);
            if (v == null)
            {
                ThrowHelper.ThrowKeyNotFound(key);
            }
            TValue result = *v;
            GC.KeepAlive(this);
            return result;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set
        {
            ulong hash = HashAndPrefetch(in key, out ulong seed, out byte flags);
            flags = AcquireWriter(flags);
            try
            {
                *Assign(in key, RehashIfReseeded(in key, hash, seed), flags, out _) = value;
            }
            finally
            {
                ReleaseWriter();
            }
            GC.KeepAlive(this);
        }
    }

    /// <summary>Looks up <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, or default when the key is absent.</param>
    /// <returns>Whether the key is in the map.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed (also by the key's own hash or equality code during the lookup).</exception>
    /// <exception cref="InvalidOperationException">The key's hash or equality code wrote to the map during the lookup (or another thread did).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetValue(TKey key, out TValue value)
    {
        TValue* v = FindValue(in key);
        if (v == null)
        {
            value = default;
            return false;
        }
        value = *v;
        GC.KeepAlive(this);
        return true;
    }

    /// <summary>The value of <paramref name="key"/>, or default when absent (Go's <c>m[k]</c>).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value or default.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed (also by the key's own hash or equality code during the lookup).</exception>
    /// <exception cref="InvalidOperationException">The key's hash or equality code wrote to the map during the lookup (or another thread did).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TValue GetValueOrDefault(TKey key)
    {
        TValue* v = FindValue(in key);
        TValue result = v == null ? default : *v;
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>Whether <paramref name="key"/> is in the map.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True when present.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed (also by the key's own hash or equality code during the lookup).</exception>
    /// <exception cref="InvalidOperationException">The key's hash or equality code wrote to the map during the lookup (or another thread did).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ContainsKey(TKey key)
    {
        bool found = FindValue(in key) != null;
        GC.KeepAlive(this);
        return found;
    }

    /// <summary>Whether some entry has <paramref name="value"/> (a full scan).</summary>
    /// <param name="value">The value to look for, compared with <see cref="EqualityComparer{T}.Default"/>.</param>
    /// <returns>True when found.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    public bool ContainsValue(TValue value)
    {
        foreach (KeyValuePair<TKey, TValue> kv in this)
        {
            if (EqualityComparer<TValue>.Default.Equals(kv.Value, value))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Adds a new entry.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The key is already present; the map is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for a growth, an overflow bucket or an indirect key or value could not be allocated; the map is unchanged.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(TKey key, TValue value)
    {
        if (!TryAdd(key, value))
        {
            ThrowHelper.ThrowDuplicateKey(key);
        }
    }

    /// <summary>Adds a new entry unless the key is present.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns>True when added; false (map unchanged) when the key was present.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for a growth, an overflow bucket or an indirect key or value could not be allocated; the map is unchanged.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryAdd(TKey key, TValue value)
    {
        ulong hash = HashAndPrefetch(in key, out ulong seed, out byte flags);
        flags = AcquireWriter(flags);
        try
        {
            TValue* v = Assign(in key, RehashIfReseeded(in key, hash, seed), flags, out bool found);
            if (found)
            {
                return false;
            }
            *v = value;
            return true;
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>Removes <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Whether the key was present.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for the growth work every write does (a doubling's evacuation may chain an overflow bucket) could not be allocated; the map is unchanged.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Remove(TKey key) => Remove(key, readValue: false, out _);

    /// <summary>Removes <paramref name="key"/> and returns its value.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The removed value, or default.</param>
    /// <returns>Whether the key was present.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <exception cref="OutOfMemoryException">Native memory for the growth work every write does (a doubling's evacuation may chain an overflow bucket) could not be allocated; the map is unchanged.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Remove(TKey key, out TValue value) => Remove(key, readValue: true, out value);

    /// <summary>
    /// Removes <paramref name="key"/>, reading its value only when <paramref name="readValue"/>: a
    /// removal that discards the value does not wait for the value's cache line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Remove(TKey key, bool readValue, out TValue value)
    {
        ulong hash = HashAndPrefetch(in key, out ulong seed, out byte flags);
        _ = AcquireWriter(flags);
        try
        {
            return DeleteSlot(in key, RehashIfReseeded(in key, hash, seed), readValue, out value);
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>
    /// Removes every entry, keeping the bucket array so that refilling to the same size grows
    /// nothing (Go's <c>clear(m)</c>). Overflow buckets and an array being evacuated are freed, and
    /// the hash seed changes.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    public void Clear()
    {
        AcquireWriter();
        try
        {
            ClearLocked();
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>
    /// Makes room for <paramref name="capacity"/> entries. On an empty map the bucket array is
    /// replaced at once; on a non-empty map the growth is incremental like any other: a doubling
    /// starts now and the following writes continue doubling until the capacity is reached.
    /// </summary>
    /// <param name="capacity">Entries to hold without further growth.</param>
    /// <returns>The capacity the map holds once any scheduled growth is done.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    /// <exception cref="OutOfMemoryException">The new bucket array could not be allocated; the map is unchanged.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    public int EnsureCapacity(int capacity)
    {
        if (capacity < 0)
        {
            ThrowHelper.ThrowCapacityOutOfRange(nameof(capacity), capacity);
        }
        byte need = BucketsLog2ForHint(capacity);
        AcquireWriter();
        try
        {
            if (need > _h.B || (_h.Buckets == null && need > 0))
            {
                if (_h.Count == 0 && !Growing)
                {
                    ReplaceEmptyArray(need);
                }
                else if (need > _targetB)
                {
                    if (!Growing)
                    {
                        HashGrow(bigger: true); // may throw: then nothing changed
                    }
                    SetTargetB(need);
                }
            }
            return (int)Math.Min(int.MaxValue, CapacityFor(Math.Max(_h.B, _targetB)));
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>Swaps the array of an empty, non-growing map for one of 2^b buckets. All or nothing.</summary>
    private void ReplaceEmptyArray(byte b)
    {
        MapExtra* extra = EnsureExtra();
        byte* fresh = MakeBucketArray(b, out byte* next);
        byte* old = _h.Buckets;
        byte oldB = _h.B;
        OverflowChunk* chunks = extra->Overflow;
        ResetOverflowRecycling(GrowthEnd.Superseded);
        SetArrays(fresh, null);
        SetB(b);
        SetNOverflow(0);
        extra->Overflow = null;
        extra->NextOverflow = next;
        _overflowCount = 0;
        SetWriteFirst(true, ArrayBytes(b));
        if (old != null)
        {
            ReleaseTable(old, ArrayBytes(oldB), oldB, chunks, zeroIfRetained: false);
        }
    }

    /// <summary>A snapshot of the map's shape and memory.</summary>
    /// <returns>Count, B, bucket and overflow counts, growth state, load factor and native bytes.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    public NativeMapStats GetStats()
    {
        CheckRead();
        bool growing = Growing || _compacting;
        long buckets = (long)BucketShift(_h.B);
        return new NativeMapStats(
            Count: (int)_h.Count,
            B: _h.B,
            BucketCount: buckets,
            OverflowBucketCount: _overflowCount,
            OldBucketCount: Growing ? (long)NOldBuckets : 0,
            OldOverflowBucketCount: Growing ? _oldOverflowCount : 0,
            EvacuatedBuckets: Growing ? (long)_h.NEvacuate : _compacting ? (long)_compactCursor : 0,
            IsGrowing: growing,
            IsSameSizeGrowth: _compacting || (Growing && IsSameSizeGrow),
            LoadFactor: (double)_h.Count / buckets,
            NativeBytes: Interlocked.Read(ref _nativeBytes),
            ApproxOverflowCount: _h.NOverflow,
            GrowthsStarted: _growthsStarted,
            SameSizeGrowthsStarted: _sameSizeGrowthsStarted);
    }

    /// <summary>Returns an enumerator with Go's iteration semantics (see <see cref="Enumerator"/>).</summary>
    /// <returns>A struct enumerator; no allocation.</returns>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Frees all native memory. Idempotent and safe to call from several threads; afterwards every
    /// member throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A write is in progress on another thread (or the call comes from inside one); nothing was freed.</exception>
    public void Dispose()
    {
        while (true)
        {
            byte f = Volatile.Read(ref _h.Flags);
            if ((f & Disposed) != 0)
            {
                return;
            }
            if ((f & HashWriting) != 0)
            {
                ThrowHelper.ThrowConcurrentWrites();
            }
            if (Interlocked.CompareExchange(ref _h.Flags, (byte)(f | Disposed | HashWriting), f) == f)
            {
                break;
            }
        }
        _version++;
        FreeAll();
        GC.SuppressFinalize(this);
    }

    private void CheckDisposed()
    {
        if ((_h.Flags & Disposed) != 0)
        {
            ThrowHelper.ThrowDisposed(GetType());
        }
    }

    /// <summary>The keys, as a live view.</summary>
    public KeyCollection Keys => _keys ??= new KeyCollection(this);

    /// <summary>The values, as a live view.</summary>
    public ValueCollection Values => _values ??= new ValueCollection(this);

    ICollection<TKey> IDictionary<TKey, TValue>.Keys => Keys;

    ICollection<TValue> IDictionary<TKey, TValue>.Values => Values;

    IEnumerable<TKey> IReadOnlyDictionary<TKey, TValue>.Keys => Keys;

    IEnumerable<TValue> IReadOnlyDictionary<TKey, TValue>.Values => Values;

    bool ICollection<KeyValuePair<TKey, TValue>>.IsReadOnly => false;

    void ICollection<KeyValuePair<TKey, TValue>>.Add(KeyValuePair<TKey, TValue> item) => Add(item.Key, item.Value);

    bool ICollection<KeyValuePair<TKey, TValue>>.Contains(KeyValuePair<TKey, TValue> item) =>
        TryGetValue(item.Key, out TValue v) && EqualityComparer<TValue>.Default.Equals(v, item.Value);

    bool ICollection<KeyValuePair<TKey, TValue>>.Remove(KeyValuePair<TKey, TValue> item)
    {
        AcquireWriter();
        try
        {
            TValue* v = FindValueUnchecked(item.Key);
            return v != null && EqualityComparer<TValue>.Default.Equals(*v, item.Value) && DeleteSlot(item.Key);
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    void ICollection<KeyValuePair<TKey, TValue>>.CopyTo(KeyValuePair<TKey, TValue>[] array, int arrayIndex) =>
        CopyTo(array, arrayIndex, static kv => kv);

    private TValue* FindValueUnchecked(in TKey key)
    {
        if (_h.Count == 0)
        {
            return null;
        }
        int version = ReadVersion();
        return FindEntry(in key, HashForRead(in key, _seed, version), version, out _);
    }

    private void CopyTo<T>(T[] array, int index, Func<KeyValuePair<TKey, TValue>, T> select)
    {
        if (array is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(array));
        }
        if ((uint)index > (uint)array.Length)
        {
            ThrowHelper.ThrowIndexOutOfRange(nameof(index), index);
        }
        if (array.Length - index < Count)
        {
            ThrowHelper.ThrowArrayTooSmall(nameof(array));
        }
        foreach (KeyValuePair<TKey, TValue> kv in this)
        {
            array[index++] = select(kv);
        }
    }
}
