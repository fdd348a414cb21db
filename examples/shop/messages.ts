// The shop's texts in Japanese (its own language) and English, and its form's fields in order.
import type { MemberFields } from './members.ts'

export type Lang = 'ja' | 'en'

export interface FieldSpec {
  name: keyof MemberFields
  group: 'name' | 'about' | 'contact' | 'address'
  type: 'text' | 'tel' | 'email' | 'date' | 'select'
  autocomplete: string
  inputmode?: string
  required: boolean
}

/** Phone first (a shop reaches its members by phone), then name, then the rest. */
export const FIELDS: readonly FieldSpec[] = [
  { name: 'phone', group: 'contact', type: 'tel', autocomplete: 'tel-national', inputmode: 'tel', required: true },
  { name: 'email', group: 'contact', type: 'email', autocomplete: 'email', inputmode: 'email', required: true },
  { name: 'family_name', group: 'name', type: 'text', autocomplete: 'family-name', required: true },
  { name: 'given_name', group: 'name', type: 'text', autocomplete: 'given-name', required: true },
  { name: 'family_name_kana', group: 'name', type: 'text', autocomplete: 'off', required: true },
  { name: 'given_name_kana', group: 'name', type: 'text', autocomplete: 'off', required: true },
  { name: 'gender', group: 'about', type: 'select', autocomplete: 'sex', required: false },
  { name: 'birthdate', group: 'about', type: 'date', autocomplete: 'bday', required: false },
  { name: 'postal_code', group: 'address', type: 'text', autocomplete: 'postal-code', inputmode: 'numeric', required: false },
  { name: 'prefecture', group: 'address', type: 'text', autocomplete: 'address-level1', required: false },
  { name: 'city', group: 'address', type: 'text', autocomplete: 'address-level2', required: false },
  { name: 'street', group: 'address', type: 'text', autocomplete: 'street-address', required: false },
]

const ja = {
  shopName: 'さくら商店',
  tagline: '産地直送の食材とお茶の店',
  switchLang: 'English',
  registerTitle: '会員登録',
  registerLead: 'ご注文・配送のために、お客様の情報を登録してください。',
  plusidButton: 'plusid で入力',
  plusidHint: 'plusid に登録した情報を、選んだ項目だけ入力できます。',
  or: 'または手で入力',
  required: '必須',
  optional: '任意',
  groups: { contact: '連絡先', name: 'お名前', about: 'お客様について', address: '配送先住所' },
  fields: {
    phone: '電話番号',
    email: 'メールアドレス',
    family_name: '姓',
    given_name: '名',
    family_name_kana: 'セイ（カタカナ）',
    given_name_kana: 'メイ（カタカナ）',
    gender: '性別',
    birthdate: '生年月日',
    postal_code: '郵便番号',
    prefecture: '都道府県',
    city: '市区町村',
    street: '番地・建物名',
  } satisfies Record<keyof MemberFields, string>,
  genders: { '': '選択してください', male: '男性', female: '女性', other: 'その他' },
  errors: { required: 'を入力してください', invalid: 'の形式が正しくありません' },
  formError: '入力内容を確認してください。',
  prefilled: 'plusid から入力しました。内容を確認して「登録する」を押してください。',
  fromPlusid: 'plusid から',
  cancelled: 'plusid での入力はキャンセルされました。手で入力することもできます。',
  submit: '登録する',
  memberTitle: '会員情報',
  registered: '会員登録が完了しました。',
  alreadyMember: 'この plusid アカウントはすでに会員として登録されています。',
  linkedToPlusid: 'plusid と連携済み',
  logout: 'ログアウト',
  expiredTitle: 'もう一度お試しください',
  expired: 'この操作は期限が切れています。最初からやり直してください。',
  failedTitle: 'plusid との連携に失敗しました',
  failed: 'plusid からの応答を確認できませんでした。もう一度お試しください。',
  backToForm: '会員登録へ戻る',
}

export type Messages = typeof ja

const en: Messages = {
  shopName: 'Sakura Shop',
  tagline: 'Fresh produce and tea, straight from the farm',
  switchLang: '日本語',
  registerTitle: 'Become a member',
  registerLead: 'Register your details for orders and delivery.',
  plusidButton: 'Fill in with plusid',
  plusidHint: 'Fill in the form from your plusid, only with the items you choose.',
  or: 'or type it in',
  required: 'required',
  optional: 'optional',
  groups: { contact: 'Contact', name: 'Name', about: 'About you', address: 'Delivery address' },
  fields: {
    phone: 'Phone number',
    email: 'Email',
    family_name: 'Family name',
    given_name: 'Given name',
    family_name_kana: 'Family name (katakana)',
    given_name_kana: 'Given name (katakana)',
    gender: 'Gender',
    birthdate: 'Date of birth',
    postal_code: 'Postal code',
    prefecture: 'Prefecture',
    city: 'City',
    street: 'Street and building',
  },
  genders: { '': 'Choose', male: 'Male', female: 'Female', other: 'Other' },
  errors: { required: 'is required', invalid: 'is not valid' },
  formError: 'Check the fields marked below.',
  prefilled: 'Filled in from plusid. Check the details and press "Register".',
  fromPlusid: 'from plusid',
  cancelled: 'Filling in from plusid was cancelled. You can type your details instead.',
  submit: 'Register',
  memberTitle: 'Your membership',
  registered: 'You are now a member.',
  alreadyMember: 'This plusid account is already a member.',
  linkedToPlusid: 'Linked to plusid',
  logout: 'Log out',
  expiredTitle: 'Please try again',
  expired: 'This step has expired. Please start again.',
  failedTitle: 'Could not fill in from plusid',
  failed: 'The answer from plusid could not be verified. Please try again.',
  backToForm: 'Back to registration',
}

export const MESSAGES: Record<Lang, Messages> = { ja, en }
