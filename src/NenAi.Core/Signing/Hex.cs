using System;

namespace NenAi.Core.Signing
{
    /// <summary>Lowercase hex, as the Nen signatures use (net472 has no Convert.ToHexString); parsing of either case for receivers.</summary>
    public static class Hex
    {
        private const string Digits = "0123456789abcdef";

        public static string ToLower(byte[] bytes)
        {
            char[] chars = new char[bytes.Length * 2];
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = Digits[bytes[i] >> 4];
                chars[2 * i + 1] = Digits[bytes[i] & 0xF];
            }
            return new string(chars);
        }

        /// <summary>Parses lowercase hex only; upper-case or odd input returns false.</summary>
        public static bool TryParseLower(string text, out byte[] bytes) => TryParse(text, allowUpper: false, out bytes);

        /// <summary>Parses hex digits of either case; odd or non-hex input returns false.</summary>
        public static bool TryParseAnyCase(string text, out byte[] bytes) => TryParse(text, allowUpper: true, out bytes);

        private static bool TryParse(string text, bool allowUpper, out byte[] bytes)
        {
            bytes = Array.Empty<byte>();
            if (text.Length % 2 != 0) return false;
            var result = new byte[text.Length / 2];
            for (int i = 0; i < result.Length; i++)
            {
                int hi = Nibble(text[2 * i], allowUpper), lo = Nibble(text[2 * i + 1], allowUpper);
                if (hi < 0 || lo < 0) return false;
                result[i] = (byte)((hi << 4) | lo);
            }
            bytes = result;
            return true;
        }

        private static int Nibble(char c, bool allowUpper) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : allowUpper && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
