using System.Runtime.CompilerServices;

namespace NenAi.Core.Signing
{
    /// <summary>Comparison whose time does not depend on where the inputs differ.</summary>
    public static class ConstantTime
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
        public static bool Equals(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            int diff = 0;
            for (int i = 0; i < a.Length; i++) diff |= a[i] ^ b[i];
            return diff == 0;
        }
    }
}
