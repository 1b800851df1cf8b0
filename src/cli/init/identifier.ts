/** The longest name the lexer accepts (docs/language.md §1, "Length"). */
export const MAX_NAME_LENGTH = 256;

/**
 * A saved name made an identifier of the .adapt language (`[A-Za-z_][A-Za-z0-9_-]*`,
 * docs/language.md §1): each character an identifier cannot hold becomes `_`, and a
 * name that would start with a digit or `-` gets a leading `_`.
 */
export function toIdentifier(text: string): string {
  const replaced = [...text].map((char) => (/[A-Za-z0-9_-]/.test(char) ? char : '_')).join('');
  return /^[A-Za-z_]/.test(replaced) ? replaced : `_${replaced}`;
}
