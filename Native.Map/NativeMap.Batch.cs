using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Native.Map.Core;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>How many keys ahead the batched operations hash and prefetch.</summary>
    private const int PrefetchDistance = 16;

    /// <summary>
    /// Looks up many keys at once. Each key is hashed and its bucket prefetched
    /// <see cref="PrefetchDistance"/> keys before it is resolved, so the cache misses of
    /// independent lookups overlap instead of waiting for one another.
    /// </summary>
    /// <param name="keys">Keys to look up.</param>
    /// <param name="values">Receives each key's value, or default; at least as long as <paramref name="keys"/>.</param>
    /// <param name="found">Receives whether each key is present; at least as long as <paramref name="keys"/>.</param>
    /// <returns>How many keys were found.</returns>
    /// <exception cref="ArgumentException">An output span is shorter than <paramref name="keys"/>.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    public int TryGetValues(ReadOnlySpan<TKey> keys, Span<TValue> values, Span<bool> found)
    {
        if (values.Length < keys.Length || found.Length < keys.Length)
        {
            ThrowHelper.ThrowOutputTooShort();
        }
        CheckRead();
        int n = keys.Length;
        if (_h.Count == 0)
        {
            values[..n].Clear();
            found[..n].Clear();
            return 0;
        }
        Span<ulong> hashes = stackalloc ulong[PrefetchDistance];
        int ahead = Math.Min(PrefetchDistance, n);
        for (int j = 0; j < ahead; j++)
        {
            hashes[j] = PrefetchBucketOf(in keys[j]);
        }
        int hits = 0;
        for (int i = 0; i < n; i++)
        {
            int ring = i % PrefetchDistance;
            ulong hash = hashes[ring];
            if (i + PrefetchDistance < n)
            {
                hashes[ring] = PrefetchBucketOf(in keys[i + PrefetchDistance]);
            }
            if (FindSlot(in keys[i], hash, out byte* b, out nuint s))
            {
                values[i] = *Bucket<TKey, TValue>.Value(b, s);
                found[i] = true;
                hits++;
            }
            else
            {
                values[i] = default;
                found[i] = false;
            }
        }
        GC.KeepAlive(this);
        return hits;
    }

    /// <summary>
    /// Sets many entries at once (insert or overwrite, like the indexer), taking the writer flag once
    /// for the whole batch and prefetching each key's bucket ahead of its insert.
    /// </summary>
    /// <param name="keys">Keys to set.</param>
    /// <param name="values">Their values, in the same order; at least as long as <paramref name="keys"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> is shorter than <paramref name="keys"/>.</exception>
    /// <exception cref="ObjectDisposedException">The map was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another write is in progress (concurrent map writes).</exception>
    /// <remarks>If an insert fails (a throwing hasher, memory exhausted) the entries before it are set and the rest are not.</remarks>
    public void SetValues(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        if (values.Length < keys.Length)
        {
            ThrowHelper.ThrowOutputTooShort();
        }
        AcquireWriter();
        try
        {
            int n = keys.Length;
            for (int i = 0; i < n; i++)
            {
                if (i + PrefetchDistance < n && _h.Buckets != null)
                {
                    PrefetchBucketOf(in keys[i + PrefetchDistance]);
                }
                *AssignSlot(in keys[i], out _) = values[i];
            }
        }
        finally
        {
            ReleaseWriter();
            GC.KeepAlive(this);
        }
    }

    /// <summary>Hashes a key and prefetches the cache lines its lookup will read; returns the hash.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong PrefetchBucketOf(in TKey key)
    {
        ulong hash = THasher.Hash(in key, _seed);
        if (Sse.IsSupported)
        {
            byte* b = Bucket<TKey, TValue>.At(_h.Buckets, (nuint)hash & BucketMask(_h.B));
            Sse.Prefetch0(b);
            Sse.Prefetch0(b + Bucket<TKey, TValue>.Size - 1);
            byte* old = _h.OldBuckets;
            if (old != null)
            {
                Sse.Prefetch0(Bucket<TKey, TValue>.At(old, (nuint)hash & OldBucketMask));
            }
        }
        return hash;
    }
}
