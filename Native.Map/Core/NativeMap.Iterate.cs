using System.Runtime.CompilerServices;
using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// Starts an enumeration: snapshot of B and the bucket array, random start bucket and offset,
    /// and a registry slot that pins the array. Go: mapiterinit.
    /// </summary>
    /// <remarks>
    /// Never inlined: once per enumeration, and with profile-guided optimisation the JIT would
    /// otherwise inline the registry (a lock, array growth) into the caller's <c>foreach</c> and run
    /// out of locals before the per-entry helpers of MoveNext, which then stay calls (measured:
    /// 10.6 instead of 6 ns per entry over 10^7 entries).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void IterInit(ref Enumerator it)
    {
        CheckRead();
        if (_h.Count == 0)
        {
            it._state = Enumerator.StateFinished;
            return;
        }
        it._b = _h.B;
        it._buckets = _h.Buckets;
        ulong r = (ulong)Random.Shared.NextInt64();
        it._startBucket = (nuint)r & BucketMask(_h.B);
        it._offset = (byte)((r >> _h.B) & (BucketCount - 1));
        it._bucket = it._startBucket;
        it._bptr = null;
        it._i = 0;
        it._wrapped = false;
        it._checkBucket = NoCheck;
        it._slot = RegisterIterator(_h.Buckets, out it._token);
        it._state = Enumerator.StateRunning;
    }

    /// <summary>
    /// Advances an enumeration; false at the end. Go: mapiternext, with the NaN cases removed (keys
    /// are reflexive here) and pins taken on any array the enumerator steps into.
    /// </summary>
    private bool IterNext(ref Enumerator it)
    {
        byte f = _h.Flags;
        if ((f & (HashWriting | Disposed)) != 0)
        {
            if ((f & Disposed) != 0)
            {
                ThrowHelper.ThrowDisposed(GetType());
            }
            ThrowHelper.ThrowConcurrentIterationWrite();
        }
        if (!IsIteratorValid(it._slot, it._token))
        {
            ThrowHelper.ThrowEnumeratorInvalid();
        }

        nuint bucket = it._bucket;
        byte* b = it._bptr;
        nuint i = it._i;
        nuint checkBucket = it._checkBucket;
        while (true)
        {
            if (b == null)
            {
                if (bucket == it._startBucket && it._wrapped)
                {
                    return false; // end of iteration
                }
                if (Growing && it._b == _h.B)
                {
                    // Started in the middle of a growth that is not done yet. If the bucket we are
                    // looking at has not been filled in yet (its old bucket is not evacuated), walk
                    // the old bucket and return only the entries that will move to this bucket.
                    b = UnevacuatedOldBucket(_h.OldBuckets, bucket & OldBucketMask);
                    if (b != null)
                    {
                        checkBucket = bucket;
                        PinCurrentArray(it._slot, it._token, _h.OldBuckets);
                    }
                    else
                    {
                        b = Bucket<TKey, TValue>.At(it._buckets, bucket);
                        checkBucket = NoCheck;
                    }
                }
                else
                {
                    b = Bucket<TKey, TValue>.At(it._buckets, bucket);
                    checkBucket = NoCheck;
                }
                bucket++;
                if (bucket == BucketShift(it._b))
                {
                    bucket = 0;
                    it._wrapped = true;
                }
                i = 0;
            }
            if (checkBucket == NoCheck && !Bucket<TKey, TValue>.Evacuated(b))
            {
                // A plain bucket: every live cell is golden data. Take the live cells in the
                // iteration's rotated order from one mask, and leave the rest of the mask to
                // Enumerator.MoveNext's fast path.
                if (it.TryEnterBucket(b, bucket, Bucket<TKey, TValue>.MatchLive(b), i))
                {
                    it._version = _version;
                    it._plainWalk = !(Growing && it._b == _h.B);
                    it._checkBucket = checkBucket;
                    return true;
                }
                i = BucketCount;
            }
            for (; i < BucketCount; i++)
            {
                nuint offi = (i + it._offset) & (BucketCount - 1);
                byte top = b[offi];
                if (top <= EmptyOne || top == EvacuatedEmpty)
                {
                    continue;
                }
                TKey* k = Bucket<TKey, TValue>.Key(b, offi);
                if (k == null)
                {
                    continue; // stale indirect copy of a deleted key, scrubbed
                }
                if (checkBucket != NoCheck && !IsSameSizeGrow)
                {
                    // Walking an old bucket during a doubling: skip entries bound for the other
                    // half; they are returned when the iteration reaches that bucket.
                    ulong hash = THasher.Hash(in *k, _seed);
                    if (((nuint)hash & BucketMask(it._b)) != checkBucket)
                    {
                        continue;
                    }
                }
                if (top != EvacuatedX && top != EvacuatedY)
                {
                    // The golden data: return it.
                    it._current = new KeyValuePair<TKey, TValue>(*k, *Bucket<TKey, TValue>.Value(b, offi));
                }
                else
                {
                    // The table has grown since the iterator started; the golden data for this key
                    // is elsewhere. Look it up: it may have been deleted, updated, or deleted and
                    // re-inserted.
                    TValue* rv = FindEntry(in *k, THasher.Hash(in *k, _seed), out TKey* rk);
                    if (rv == null)
                    {
                        continue; // deleted
                    }
                    it._current = new KeyValuePair<TKey, TValue>(*rk, *rv);
                }
                it._bucket = bucket;
                it._bptr = b;
                it._i = (byte)(i + 1);
                it._checkBucket = checkBucket;
                return true;
            }
            b = Bucket<TKey, TValue>.Overflow(b);
            i = 0;
        }
    }
}
