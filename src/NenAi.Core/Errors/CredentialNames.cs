namespace NenAi.Core.Errors
{
    /// <summary>
    /// Which credential a refusal (401, 403, 407) is about, in words a user can act on. Names only: a credential's
    /// value is never shown.
    /// </summary>
    public static class CredentialNames
    {
        /// <summary>True for the answers that refuse the credentials themselves, so every request would be refused.</summary>
        public static bool IsRefusal(string errorId) =>
            errorId == NenErrorIds.Unauthorized || errorId == NenErrorIds.InvalidSignature || errorId == NenErrorIds.InvalidTimestamp
            || errorId == NenErrorIds.HmacRequired || errorId == NenErrorIds.Forbidden || errorId == NenErrorIds.ProxyAuthenticationRequired;

        /// <summary>What was refused, as the start of a sentence: "The API key was refused", "The proxy credentials were refused".</summary>
        public static string Refused(string errorId) => errorId switch
        {
            NenErrorIds.Unauthorized => "The API key was refused",
            NenErrorIds.Forbidden => "The API key was refused (it has no permission for this request)",
            NenErrorIds.InvalidSignature => "The signing key was refused (the request signature did not verify)",
            NenErrorIds.InvalidTimestamp => "The signing key's timestamp was refused (this machine's clock is more than 5 minutes off)",
            NenErrorIds.HmacRequired => "The unsigned request was refused (secure parameters need a signing key)",
            NenErrorIds.ProxyAuthenticationRequired => "The proxy credentials were refused",
            _ => "The credentials were refused",
        };

        /// <summary>What to check, naming the parameter and variable that hold the credential.</summary>
        public static string WhatToDo(string errorId) => errorId switch
        {
            NenErrorIds.Unauthorized or NenErrorIds.Forbidden => "Check -ApiKey or NEN_API_KEY (a revoked or mistyped key), then run the same command again.",
            NenErrorIds.InvalidSignature or NenErrorIds.HmacRequired => "Check -SigningKey or NEN_SIGNING_KEY (it must be the one issued with this API key), then run the same command again.",
            NenErrorIds.InvalidTimestamp => "Correct this machine's clock, then run the same command again.",
            NenErrorIds.ProxyAuthenticationRequired => "Check -ProxyCredential (or -ProxyUseDefaultCredentials) and -Proxy (or the system proxy setting); the API key was not checked. Then run the same command again.",
            _ => "Check the credentials, then run the same command again.",
        };
    }
}
