/**
 * A change Copilot proposes (an edit of a cell, a new cell below one, a cell deleted)
 * appears on its cell as a diff with Accept and Reject; nothing in the notebook changes
 * until the person accepts. A cell Copilot asks to run shows its source with Run and
 * Don't run; on Run the kernel runs that source, as shown, within the reply. The kernel computes the diff's lines with
 * every character that can hide text written out (⟨U+202E RIGHT-TO-LEFT OVERRIDE⟩), so
 * what the person reads is what lands. A cell that changed since the kernel read it, or
 * changes during the review (another window, another person), is not overwritten: the
 * review says so and the model hears "changed".
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { JSONObject } from '@lumino/coreutils';
import { PanelLayout, Widget } from '@lumino/widgets';

export interface ChangeRequest {
  kind: 'edit' | 'insert' | 'delete' | 'run';
  cell_id: string; // the cell changed, or the one a new cell goes below
  old: string; // the source the kernel read (an edit's and a delete's)
  source: string; // the proposed source, exactly as it would land
  cell_type: string; // a new cell's: code or markdown
  lines: [string, string][]; // [' ' | '-' | '+' | '…', text made visible]
  hidden: number; // characters of the proposed source written out as markers
  purpose?: 'propose' | 'rewind' | 'apply'; // rewind: put back what a rewound turn changed
  new_id?: string; // an insert's: the id the new cell takes (a deleted cell put back)
}

const TITLES: { [kind: string]: string } = {
  edit: 'Copilot proposes an edit to this cell',
  insert: 'Copilot proposes a new cell below this one',
  delete: 'Copilot proposes to delete this cell',
  run: 'Copilot asks to run this cell'
};

// A rewind offers back what a rewound turn changed, on the cell concerned.
const REWIND_TITLES: { [kind: string]: string } = {
  edit: 'Rewind: put this cell back as it was before the rewound turn',
  insert: 'Rewind: put back, below this cell, the cell the rewound turn deleted',
  delete: 'Rewind: remove this cell, which the rewound turn added'
};

export interface Review {
  withdraw(): void;
}

const SIGNS: { [kind: string]: [string, string] } = {
  '-': ['−', 'copilot-diff-removed'],
  '+': ['+', 'copilot-diff-added'],
  ' ': [' ', 'copilot-diff-context'],
  '…': ['…', 'copilot-diff-skipped']
};

export function diffNode(lines: [string, string][]): HTMLElement {
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

export function button(label: string, style: string, title: string): HTMLButtonElement {
  const found = document.createElement('button');
  found.type = 'button';
  found.className = `jp-Button jp-mod-styled ${style}`;
  found.textContent = label;
  found.title = title;
  return found;
}

/** A review's box (``className``), a group named ``heading``, and its header holding the
 *  title; the buttons go in the header, the note and the diff below it. */
export function reviewBox(
  heading: string,
  className: string
): { node: HTMLDivElement; header: HTMLDivElement } {
  const node = document.createElement('div');
  node.className = className;
  node.setAttribute('role', 'group');
  node.setAttribute('aria-label', heading);
  const header = document.createElement('div');
  header.className = 'copilot-review-header';
  const title = document.createElement('span');
  title.className = 'copilot-review-title';
  title.textContent = heading;
  header.appendChild(title);
  node.appendChild(header);
  return { node, header };
}

/** Show ``node`` on ``cell``, under its input; disposing the widget takes it away. */
export function showUnderInput(cell: Cell, node: HTMLElement): Widget {
  const shown = new Widget({ node });
  const layout = cell.layout as PanelLayout;
  const input = cell.inputArea?.parent ?? null;
  layout.insertWidget(input ? layout.widgets.indexOf(input) + 1 : 0, shown);
  return shown;
}

function findCell(panel: NotebookPanel, cellId: string): Cell | undefined {
  return panel.content.widgets.find(cell => cell.model.id === cellId);
}

/** The cell a review shows on: the cell named, or, for a cell put back at the very top
 *  (it had none above it, or the one above is gone), the first cell. */
export function reviewedCell(panel: NotebookPanel, request: ChangeRequest): Cell | undefined {
  const found = request.cell_id === '' ? undefined : findCell(panel, request.cell_id);
  return found ?? (atTop(panel, request) ? panel.content.widgets[0] : undefined);
}

/** Whether an insert goes at the top: a cell put back that had none above it, or whose
 *  cell above is gone. */
function atTop(panel: NotebookPanel, request: ChangeRequest): boolean {
  const backAtTop = request.kind === 'insert' && request.purpose === 'rewind';
  return backAtTop && (request.cell_id === '' || !findCell(panel, request.cell_id));
}

/** What Accept does: the change made through the notebook's shared model (so that the
 *  cell's undo, and a collaborator's window, see it), and the kernel's answer. ``source``
 *  is what lands: the proposal, or the person's own version of it. */
export function apply(
  panel: NotebookPanel,
  cell: Cell,
  request: ChangeRequest,
  source: string = request.source
): JSONObject {
  const notebook = panel.content.model?.sharedModel;
  const edited = source !== request.source;
  const index = panel.content.widgets.indexOf(cell);
  switch (request.kind) {
    case 'insert': {
      const cellType = ['markdown', 'raw'].includes(request.cell_type)
        ? (request.cell_type as 'markdown' | 'raw')
        : 'code';
      const added = notebook?.insertCell(atTop(panel, request) ? 0 : index + 1, {
        cell_type: cellType,
        source,
        ...(request.new_id ? { id: request.new_id } : {})
      });
      return { outcome: 'accepted', cell_id: added?.id ?? '', source, edited };
    }
    case 'delete': {
      const above = index > 0 ? panel.content.widgets[index - 1].model.id : '';
      notebook?.deleteCell(index);
      return { outcome: 'accepted', above };
    }
    case 'run':
      return { outcome: 'accepted' }; // the kernel runs the source the person saw
    default:
      cell.model.sharedModel.setSource(source);
      return { outcome: 'accepted', source: cell.model.sharedModel.getSource(), edited };
  }
}

/** Show ``request`` on its cell and answer with what the person did. */
export function review(
  panel: NotebookPanel,
  request: ChangeRequest,
  reviews: Set<Review>,
  alive: () => boolean
): Promise<JSONObject> {
  if (request.new_id && findCell(panel, request.new_id)) {
    return Promise.resolve({ outcome: 'present' }); // put back already (an undo)
  }
  const found = reviewedCell(panel, request);
  if (!found) {
    return Promise.resolve({ outcome: 'missing' });
  }
  const cell: Cell = found;
  const source = (): string => cell.model.sharedModel.getSource();
  if (request.kind === 'edit' && source() === request.source) {
    return Promise.resolve({ outcome: 'unchanged' }); // it holds that already
  }
  const guarded = request.kind !== 'insert'; // an insert changes no cell's source
  if (guarded && source() !== request.old) {
    return Promise.resolve({ outcome: 'changed' });
  }
  return new Promise<JSONObject>(resolve => {
    const rewinding = request.purpose === 'rewind';
    const heading = atTop(panel, request)
      ? 'Rewind: put back, above this cell, the cell the rewound turn deleted'
      : ((rewinding ? REWIND_TITLES[request.kind] : TITLES[request.kind]) ?? TITLES.edit);
    const { node, header } = reviewBox(heading, 'copilot-review');
    node.tabIndex = 0;
    node.dataset.lmSuppressShortcuts = 'true'; // A and R answer here, not as notebook commands
    const running = request.kind === 'run';
    const [yes, no] = running
      ? ['Run', "Don't run"]
      : rewinding
        ? ['Revert', 'Keep']
        : ['Accept', 'Reject'];
    const accept = button(
      yes,
      'jp-mod-accept',
      running ? 'Run this cell now, in the reply (A)' : 'Make this change (A)'
    );
    const reject = button(
      no,
      'jp-mod-reject',
      running ? 'Nothing runs (R)' : 'Leave the notebook as it is (R)'
    );
    header.append(accept, reject);
    const diff = diffNode(request.lines);
    // A proposal the person may change before accepting: Edit opens it in a text box (not
    // one holding hidden characters, which a text box would hide again).
    let editor: HTMLTextAreaElement | null = null;
    const editable =
      (request.kind === 'edit' || request.kind === 'insert') && !rewinding && request.hidden === 0;
    if (editable) {
      const edit = button('Edit', 'jp-mod-styled', 'Change the proposal before accepting it');
      header.insertBefore(edit, accept);
      edit.addEventListener('click', () => {
        editor = document.createElement('textarea');
        editor.className = 'copilot-review-editor';
        editor.value = request.source;
        editor.rows = Math.min(request.source.split('\n').length + 1, 20);
        editor.setAttribute('aria-label', 'Your version of the proposal');
        editor.spellcheck = false;
        diff.replaceWith(editor);
        edit.remove();
        editor.focus();
      });
    }
    const note = document.createElement('div');
    note.className = 'copilot-review-note';
    if (request.hidden > 0) {
      const one = request.hidden === 1;
      const what = running ? 'The cell' : 'The proposal';
      const does = running ? 'Run runs' : 'Accept puts';
      const where = running ? '' : ' in the cell';
      note.textContent =
        `⚠ ${what} holds ${request.hidden} hidden character${one ? '' : 's'}, ` +
        `written out as ⟨…⟩ below; ${does} ${one ? 'it' : 'them'}${where} as ` +
        `${one ? 'it is' : 'they are'}.`;
    }
    node.append(note, diff);
    const shown = showUnderInput(cell, node);

    const changedUnderReview = (): void => {
      if (guarded && source() !== request.old) {
        note.textContent =
          '⚠ This cell changed after Copilot read it: Accept will not overwrite it.';
      }
    };
    cell.model.contentChanged.connect(changedUnderReview);
    const pending: Review = { withdraw: () => end(() => ({ outcome: 'withdrawn' })) };
    reviews.add(pending);
    let ended = false;
    // The review goes first, then the change is made (a deleted cell takes its widgets
    // with it), then the kernel hears the outcome.
    function end(decide: () => JSONObject): void {
      if (ended) {
        return;
      }
      ended = true;
      reviews.delete(pending);
      cell.model.contentChanged.disconnect(changedUnderReview);
      shown.dispose();
      let outcome: JSONObject;
      try {
        outcome = decide();
      } catch (error) {
        outcome = { outcome: 'error', error: String(error) };
      }
      resolve(outcome);
    }
    // A cell deleted or moved (a move deletes and inserts it) takes the review with it.
    shown.disposed.connect(() => end(() => ({ outcome: 'missing' })));
    const onAccept = (): void =>
      end(() => {
        if (!alive()) {
          return { outcome: 'withdrawn' }; // the turn is over: nothing changes
        }
        return guarded && source() !== request.old
          ? { outcome: 'changed' }
          : apply(panel, cell, request, editor?.value ?? request.source);
      });
    const onReject = (): void => end(() => ({ outcome: 'rejected' }));
    accept.addEventListener('click', onAccept);
    reject.addEventListener('click', onReject);
    node.addEventListener('keydown', event => {
      if (event.target !== node || event.ctrlKey || event.metaKey || event.altKey) {
        return; // the buttons answer their own keys; Ctrl+A selects, it does not accept
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
