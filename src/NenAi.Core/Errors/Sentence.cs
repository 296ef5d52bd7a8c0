namespace NenAi.Core.Errors
{
    /// <summary>
    /// Joins message parts into sentences: a part that does not end a sentence (a server's message often has no full
    /// stop) gets one before the next part, so "fake fault" and "Retry after 2 s." read "fake fault. Retry after 2 s.".
    /// </summary>
    public static class Sentence
    {
        public static string Join(string first, string next)
        {
            if (first.Length == 0) return next;
            if (next.Length == 0) return first;
            return Ended(first) + " " + next;
        }

        /// <summary><paramref name="text"/> ending with a full stop (or its own '!', '?', '.').</summary>
        public static string Ended(string text)
        {
            string trimmed = text.TrimEnd();
            if (trimmed.Length == 0) return trimmed;
            char last = trimmed[trimmed.Length - 1];
            return last == '.' || last == '!' || last == '?' ? trimmed : trimmed + ".";
        }
    }
}
