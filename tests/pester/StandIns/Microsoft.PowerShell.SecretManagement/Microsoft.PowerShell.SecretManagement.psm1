# Test stand-in: the emulator's demo secrets under the names the README uses, as SecureStrings (as the real one returns).
function Get-Secret {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)] [string] $Name,
        [Parameter(Position = 1)] [string] $Vault,
        [switch] $AsPlainText
    )
    $value = switch ($Name) {
        'NenApiKey' { 'nen-demo-api-key' }
        'NenSigningKey' { 'nen-demo-signing-key' }
        'NenWebhookSecret' { 'nen-demo-webhook-secret' }
        default { throw "Get-Secret: The secret $Name was not found." }
    }
    if ($AsPlainText) { return $value }
    $secure = [System.Security.SecureString]::new()
    foreach ($c in $value.ToCharArray()) { $secure.AppendChar($c) }
    $secure.MakeReadOnly()
    $secure
}
