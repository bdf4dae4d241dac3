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
    private IteratorState? IterInit()
    {
        CheckRead();
        if (_h.Count == 0)
        {
            return null;
        }
        IteratorState s = RegisterIterator(_h.Buckets);
        s.B = _h.B;
        ulong r = (ulong)Random.Shared.NextInt64();
        s.StartBucket = (nuint)r & BucketMask(_h.B);
        s.Offset = (byte)((r >> _h.B) & (BucketCount - 1));
        s.Bucket = s.StartBucket;
        s.Bptr = null;
        s.I = 0;
        s.Wrapped = false;
        s.PlainWalk = false;
        s.CheckBucket = NoCheck;
        return s;
    }

    /// <summary>
    /// Advances an enumeration; false at the end. Go: mapiternext, with the NaN cases removed (keys
    /// are reflexive here) and pins taken on any array the enumerator steps into.
    /// </summary>
    private bool IterNext(IteratorState it, uint token, ref Enumerator.Step step)
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
        if (Volatile.Read(ref it.Token) != token)
        {
            ThrowHelper.ThrowEnumeratorInvalid();
        }

        nuint bucket = it.Bucket;
        byte* b = it.Bptr;
        nuint i = it.I;
        nuint checkBucket = it.CheckBucket;
        while (true)
        {
            if (b == null)
            {
                if (bucket == it.StartBucket && it.Wrapped)
                {
                    return false; // end of iteration
                }
                if (Growing && it.B == _h.B)
                {
                    // Started in the middle of a growth that is not done yet. If the bucket we are
                    // looking at has not been filled in yet (its old bucket is not evacuated), walk
                    // the old bucket and return only the entries that will move to this bucket.
                    b = UnevacuatedOldBucket(_h.OldBuckets, bucket & OldBucketMask);
                    if (b != null)
                    {
                        checkBucket = bucket;
                        PinCurrentArray(it.Slot, token, _h.OldBuckets);
                    }
                    else
                    {
                        b = Bucket<TKey, TValue>.At(it.Buckets, bucket);
                        checkBucket = NoCheck;
                    }
                }
                else
                {
                    b = Bucket<TKey, TValue>.At(it.Buckets, bucket);
                    checkBucket = NoCheck;
                }
                bucket++;
                if (bucket == BucketShift(it.B))
                {
                    bucket = 0;
                    it.Wrapped = true;
                }
                i = 0;
            }
            if (checkBucket == NoCheck && !Bucket<TKey, TValue>.Evacuated(b))
            {
                // A plain bucket: every live cell is golden data. Take the live cells in the
                // iteration's rotated order from one mask, and leave the rest of the mask to
                // Enumerator.MoveNext's fast path.
                if (Enumerator.TryEnterBucket(it, b, bucket, Bucket<TKey, TValue>.MatchLive(b), i, ref step))
                {
                    step.Version = _version;
                    it.PlainWalk = !(Growing && it.B == _h.B);
                    it.CheckBucket = checkBucket;
                    return true;
                }
                i = BucketCount;
            }
            for (; i < BucketCount; i++)
            {
                nuint offi = (i + it.Offset) & (BucketCount - 1);
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
                    ulong hash = HashForEnumeration(in *k);
                    if (((nuint)hash & BucketMask(it.B)) != checkBucket)
                    {
                        continue;
                    }
                    if (THasher.CanThrow)
                    {
                        // The key's code may have written to the map (allowed during an enumeration):
                        // the cell may have been evacuated or emptied since it was read.
                        top = b[offi];
                        if (top <= EmptyOne || top == EvacuatedEmpty)
                        {
                            continue;
                        }
                    }
                }
                if (top != EvacuatedX && top != EvacuatedY)
                {
                    // The golden data: return it.
                    step.Current = new KeyValuePair<TKey, TValue>(*k, *Bucket<TKey, TValue>.Value(b, offi));
                }
                else
                {
                    // The table has grown since the iterator started; the golden data for this key
                    // is elsewhere. Look it up: it may have been deleted, updated, or deleted and
                    // re-inserted.
                    ulong hash = HashForEnumeration(in *k);
                    TValue* rv = FindEntry(in *k, hash, ReadVersion(), out TKey* rk);
                    if (rv == null)
                    {
                        continue; // deleted
                    }
                    step.Current = new KeyValuePair<TKey, TValue>(*rk, *rv);
                }
                it.Bucket = bucket;
                it.Bptr = b;
                it.I = (byte)(i + 1);
                it.CheckBucket = checkBucket;
                return true;
            }
            b = Bucket<TKey, TValue>.Overflow(b);
            i = 0;
        }
    }
}
