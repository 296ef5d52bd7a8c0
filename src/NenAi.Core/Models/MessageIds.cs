using NenAi.Core.Errors;

namespace NenAi.Core.Models
{
    /// <summary>
    /// A message id goes into a URL path (GET /runs/{id}): one that could walk that path ("..", "a/b") or is empty
    /// is refused before any request, whatever the service's ids look like otherwise.
    /// </summary>
    public static class MessageIds
    {
        public static string Check(string? messageId)
        {
            string id = (messageId ?? string.Empty).Trim();
            if (id.Length == 0)
                throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument, "The message id is empty.");
            bool pathLike = id == "." || id == ".." || id.IndexOfAny(new[] { '/', '\\', '?', '#' }) >= 0;
            bool control = false;
            foreach (char c in id) control |= c < 32 || c == 127;
            if (pathLike || control)
                throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument,
                    $"'{(control ? "(control characters)" : id)}' is not a message id: it would change the request's path.");
            return id;
        }
    }
}
