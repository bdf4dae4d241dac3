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
}
