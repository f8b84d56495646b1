/**
 * An edit Copilot proposes appears on its cell as a diff with Accept and Reject; nothing
 * in the cell changes until the person accepts. The kernel computes the diff's lines with
 * every character that can hide text written out (⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩), so
 * what the person reads is what lands. A cell that changed since the kernel read it, or
 * changes during the review (another window, another person), is not overwritten: the
 * review says so and the model hears "changed".
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { JSONObject } from '@lumino/coreutils';
import { PanelLayout, Widget } from '@lumino/widgets';

export interface EditRequest {
  cell_id: string;
  old: string; // the source the kernel read, which the diff starts from
  source: string; // the proposed source, exactly as it would land
  lines: [string, string][]; // [' ' | '-' | '+' | '…', text made visible]
  hidden: number; // characters of the proposed source written out as markers
}

export interface Review {
  withdraw(): void;
}

const SIGNS: { [kind: string]: [string, string] } = {
  '-': ['−', 'copilot-diff-removed'],
  '+': ['+', 'copilot-diff-added'],
  ' ': [' ', 'copilot-diff-context'],
  '…': ['…', 'copilot-diff-skipped']
};

function diffNode(lines: [string, string][]): HTMLElement {
  const diff = document.createElement('div');
  diff.className = 'copilot-review-diff';
  for (const [kind, text] of lines) {
    const [sign, style] = SIGNS[kind] ?? SIGNS[' '];
    const line = document.createElement('div');
    line.className = `copilot-diff-line ${style}`;
    const mark = document.createElement('span');
    mark.className = 'copilot-diff-sign';
    mark.textContent = sign;
    const body = document.createElement('span');
    body.className = 'copilot-diff-text';
    body.textContent = text; // text, never markup
    line.append(mark, body);
    diff.appendChild(line);
  }
  return diff;
}

function button(label: string, style: string, title: string): HTMLButtonElement {
  const found = document.createElement('button');
  found.type = 'button';
  found.className = `jp-Button jp-mod-styled ${style}`;
  found.textContent = label;
  found.title = title;
  return found;
}

function findCell(panel: NotebookPanel, cellId: string): Cell | undefined {
  return panel.content.widgets.find(cell => cell.model.id === cellId);
}

/** Show ``request`` on its cell and answer with what the person did. */
export function reviewEdit(
  panel: NotebookPanel,
  request: EditRequest,
  reviews: Set<Review>
): Promise<JSONObject> {
  const found = findCell(panel, request.cell_id);
  if (!found) {
    return Promise.resolve({ outcome: 'missing' });
  }
  const cell: Cell = found;
  const source = (): string => cell.model.sharedModel.getSource();
  if (source() !== request.old) {
    return Promise.resolve({ outcome: 'changed' });
  }
  if (request.old === request.source) {
    return Promise.resolve({ outcome: 'unchanged' });
  }
  return new Promise<JSONObject>(resolve => {
    const node = document.createElement('div');
    node.className = 'copilot-review';
    node.setAttribute('role', 'group');
    node.setAttribute('aria-label', 'Copilot proposes an edit to this cell');
    node.tabIndex = 0;
    node.dataset.lmSuppressShortcuts = 'true'; // A and R answer here, not as notebook commands
    const header = document.createElement('div');
    header.className = 'copilot-review-header';
    const title = document.createElement('span');
    title.className = 'copilot-review-title';
    title.textContent = 'Copilot proposes an edit to this cell';
    const accept = button('Accept', 'jp-mod-accept', 'Replace the cell with the proposal (A)');
    const reject = button('Reject', 'jp-mod-reject', 'Keep the cell as it is (R)');
    header.append(title, accept, reject);
    node.appendChild(header);
    const note = document.createElement('div');
    note.className = 'copilot-review-note';
    if (request.hidden > 0) {
      const one = request.hidden === 1;
      note.textContent =
        `⚠ The proposal holds ${request.hidden} hidden character${one ? '' : 's'}, ` +
        `written out as ⟨…⟩ below; Accept puts ${one ? 'it' : 'them'} in the cell as ` +
        `${one ? 'it is' : 'they are'}.`;
    }
    node.append(note, diffNode(request.lines));
    const shown = new Widget({ node });
    const layout = cell.layout as PanelLayout;
    const input = cell.inputArea?.parent ?? null;
    layout.insertWidget(input ? layout.widgets.indexOf(input) + 1 : 0, shown);

    const changedUnderReview = (): void => {
      if (source() !== request.old) {
        note.textContent =
          '⚠ This cell changed after Copilot read it: Accept will not overwrite it.';
      }
    };
    cell.model.contentChanged.connect(changedUnderReview);
    const review: Review = { withdraw: () => end({ outcome: 'withdrawn' }) };
    reviews.add(review);
    let ended = false;
    function end(outcome: JSONObject): void {
      if (ended) {
        return;
      }
      ended = true;
      reviews.delete(review);
      cell.model.contentChanged.disconnect(changedUnderReview);
      shown.dispose();
      resolve(outcome);
    }
    const onAccept = (): void => {
      if (source() !== request.old) {
        end({ outcome: 'changed' });
        return;
      }
      cell.model.sharedModel.setSource(request.source);
      end({ outcome: 'accepted', source: source() });
    };
    const onReject = (): void => end({ outcome: 'rejected' });
    accept.addEventListener('click', onAccept);
    reject.addEventListener('click', onReject);
    node.addEventListener('keydown', event => {
      if (event.target !== node) {
        return; // the buttons answer their own keys
      }
      if (event.key === 'a' || event.key === 'A') {
        event.preventDefault();
        onAccept();
      } else if (event.key === 'r' || event.key === 'R') {
        event.preventDefault();
        onReject();
      }
    });
  });
}
