using System.Numerics;
using System.Runtime.CompilerServices;
using Native.Map.Core;
using static Native.Map.Core.MapConstants;

namespace Native.Map;

public unsafe partial class NativeMap<TKey, TValue, THasher>
{
    /// <summary>
    /// The chain a lookup for <paramref name="hash"/> must read: the new bucket, or while growing the
    /// old bucket if it has not been evacuated yet. Preconditions: Buckets != null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* ReadBucket(ulong hash)
    {
        nuint m = BucketMask(_h.B);
        byte* b = Bucket<TKey, TValue>.At(_h.Buckets, (nuint)hash & m);
        byte* c = _h.OldBuckets;
        if (c != null)
        {
            if ((_h.Flags & SameSizeGrow) == 0)
            {
                // There used to be half as many buckets; mask down one more power of two.
                m >>= 1;
            }
            byte* oldb = Bucket<TKey, TValue>.At(c, (nuint)hash & m);
            if (!Bucket<TKey, TValue>.Evacuated(oldb))
            {
                b = oldb;
            }
        }
        return b;
    }

    /// <summary>
    /// The slot holding <paramref name="key"/>, or false. No flag checks: callers do them.
    /// Go: mapaccess2 / mapaccessK.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool FindSlot(in TKey key, ulong hash, out byte* bucket, out nuint slot)
    {
        if (ProbeCounters.Enabled)
        {
            return FindSlotCountingProbes(in key, hash, out bucket, out slot);
        }
        if (_h.Count != 0)
        {
            byte* b = ReadBucket(hash);
            byte top = TopHash(hash);
            do
            {
                uint matches = Bucket<TKey, TValue>.MatchTopHash(b, top);
                while (matches != 0)
                {
                    nuint i = (nuint)BitOperations.TrailingZeroCount(matches);
                    if (THasher.KeyEquals(in key, in *Bucket<TKey, TValue>.Key(b, i)))
                    {
                        bucket = b;
                        slot = i;
                        return true;
                    }
                    matches &= matches - 1;
                }
                if (Bucket<TKey, TValue>.HasEmptyRest(b))
                {
                    break;
                }
                b = Bucket<TKey, TValue>.Overflow(b);
            }
            while (b != null);
        }
        bucket = null;
        slot = 0;
        return false;
    }

    /// <summary>Pointer to the value stored for <paramref name="key"/>, or null. Checks flags. Go: mapaccess1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private TValue* FindValue(in TKey key)
    {
        CheckRead();
        if (_h.Count == 0)
        {
            return null;
        }
        if (FindSlot(in key, THasher.Hash(in key, _seed), out byte* b, out nuint i))
        {
            return Bucket<TKey, TValue>.Value(b, i);
        }
        return null;
    }

    /// <summary>
    /// FindSlot as Go's byte loop, counting the filled slots examined (Go's hitprobe/missprobe):
    /// only reached when <see cref="ProbeCounters.Enabled"/>.
    /// </summary>
    private bool FindSlotCountingProbes(in TKey key, ulong hash, out byte* bucket, out nuint slot)
    {
        long probes = 0;
        if (_h.Count != 0)
        {
            byte top = TopHash(hash);
            for (byte* b = ReadBucket(hash); b != null; b = Bucket<TKey, TValue>.Overflow(b))
            {
                for (nuint i = 0; i < BucketCount; i++)
                {
                    byte t = b[i];
                    if (t == EmptyRest)
                    {
                        goto miss;
                    }
                    if (t < MinTopHash)
                    {
                        continue;
                    }
                    probes++;
                    if (t == top && THasher.KeyEquals(in key, in *Bucket<TKey, TValue>.Key(b, i)))
                    {
                        ProbeCounters.RecordHit(probes);
                        bucket = b;
                        slot = i;
                        return true;
                    }
                }
            }
        }
    miss:
        ProbeCounters.RecordMiss(probes);
        bucket = null;
        slot = 0;
        return false;
    }
}
