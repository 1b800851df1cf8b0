import { MAX_SIZE } from '../limits.js';
import type { Family, HeadLayout, HeadSpec } from '../../model.js';
import { describeJson, type ConfigReader } from './config-reader.js';

/** The architectures read, by their class name in `architectures`: family, and head or none. */
const ARCHITECTURES: Readonly<Record<string, { family: Family; layout: HeadLayout | 'none' }>> = {
  BertModel: { family: 'bert', layout: 'none' },
  BertForSequenceClassification: { family: 'bert', layout: 'pooler' },
  BertForTokenClassification: { family: 'bert', layout: 'token' },
  RobertaModel: { family: 'roberta', layout: 'none' },
  RobertaForSequenceClassification: { family: 'roberta', layout: 'dense-tanh' },
  RobertaForTokenClassification: { family: 'roberta', layout: 'token' },
  XLMRobertaModel: { family: 'roberta', layout: 'none' },
  XLMRobertaForSequenceClassification: { family: 'roberta', layout: 'dense-tanh' },
  XLMRobertaForTokenClassification: { family: 'roberta', layout: 'token' },
  DistilBertModel: { family: 'distilbert', layout: 'none' },
  DistilBertForSequenceClassification: { family: 'distilbert', layout: 'pre-classifier-relu' },
  DistilBertForTokenClassification: { family: 'distilbert', layout: 'token' },
  GPT2Model: { family: 'gpt2', layout: 'none' },
  GPT2LMHeadModel: { family: 'gpt2', layout: 'tied-embeddings' },
  GPT2ForTokenClassification: { family: 'gpt2', layout: 'token' },
};

const PROBLEM_TYPES = [
  'single_label_classification',
  'multi_label_classification',
  'regression',
] as const;

export interface HeadFacts {
  readonly architecture?: string;
  readonly head?: HeadSpec;
}

/** `architectures[0]`, or undefined when the key is absent, null or an empty list. */
function readArchitecture(reader: ConfigReader): string | null | undefined {
  if (!reader.has('architectures')) return undefined;
  const list = reader.json.get('architectures')!;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
    reader.report('architectures', `must be a list of class names, got ${describeJson(list)}`);
    return null;
  }
  return (list as readonly string[])[0];
}

/**
 * The task head `architectures` names, with its labels from `id2label` and its scores from
 * `problem_type`. `wanted` false (`head none`) reads the architecture only. Returns undefined
 * after an error; a head that is not supported is a warning, and no head.
 */
export function readHead(
  reader: ConfigReader,
  family: Family,
  wanted: boolean,
): HeadFacts | undefined {
  const architecture = readArchitecture(reader);
  if (architecture === null) return undefined;
  if (architecture === undefined) return {};
  const known = ARCHITECTURES[architecture];
  if (known && known.family !== family) {
    reader.report(
      'architectures',
      `${architecture} is a ${known.family} model, but model_type says ${family}`,
      'E0117',
    );
    return undefined;
  }
  if (!wanted || known?.layout === 'none') return { architecture };
  const unsupported = (why: string): HeadFacts => {
    reader.report(
      'architectures',
      `the head of ${architecture} is not supported${why}; the graphs end at last_hidden_state`,
      'W0119',
      `supported: ${Object.keys(ARCHITECTURES)
        .filter((name) => ARCHITECTURES[name]!.family === family)
        .join(', ')}; write 'head none' in the model block to say so`,
    );
    return { architecture };
  };
  if (!known) return unsupported('');
  if (known.layout === 'tied-embeddings') {
    return { architecture, head: { layout: known.layout, labels: [], scores: 'softmax' } };
  }
  const problem = reader.has('problem_type')
    ? reader.choice('problem_type', PROBLEM_TYPES)
    : 'single_label_classification';
  if (problem === undefined) return undefined;
  if (problem === 'regression') return unsupported(' for problem_type "regression"');
  const labels = readLabels(reader);
  if (!labels) return undefined;
  const scores = problem === 'multi_label_classification' ? 'sigmoid' : 'softmax';
  return { architecture, head: { layout: known.layout, labels, scores } };
}

/** `id2label`: an object with the keys "0" to "L-1", each once, each a string label. */
function readLabels(reader: ConfigReader): string[] | undefined {
  const value = reader.json.get('id2label');
  if (value === undefined || value === null) {
    reader.report('id2label', 'missing; a classification head needs its labels by id');
    return undefined;
  }
  if (!(value instanceof Map)) {
    reader.report('id2label', `must be an object from ids to labels, got ${describeJson(value)}`);
    return undefined;
  }
  const notId = [...value.keys()].find((key) => !/^(0|[1-9]\d*)$/.test(key));
  if (notId !== undefined) {
    reader.report('id2label', `key ${JSON.stringify(notId)} is not a label id (0, 1, 2, ...)`);
    return undefined;
  }
  if (value.size > MAX_SIZE) {
    reader.report('id2label', `has ${value.size} labels; a head has at most ${MAX_SIZE}`);
    return undefined;
  }
  const count = value.size;
  for (let id = 0; id < count; id++) {
    if (!value.has(String(id))) {
      reader.report(
        'id2label',
        `has no label for id ${id}: with ${value.size} labels the ids are "0" to "${value.size - 1}", each once`,
      );
      return undefined;
    }
  }
  const labels: string[] = [];
  for (let id = 0; id < count; id++) {
    const label = value.get(String(id))!;
    if (typeof label !== 'string') {
      reader.report('id2label', `label ${id} must be a string, got ${describeJson(label)}`);
      return undefined;
    }
    labels.push(label);
  }
  if (labels.length === 0) {
    reader.report('id2label', 'has no labels');
    return undefined;
  }
  return labels;
}
